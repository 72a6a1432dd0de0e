// int8 inference: `model.quantize()` turns any model of the family into a QuantizedModel whose
// dense layers multiply int8 weights by int8 activations with exact i32 sums (assembly/int8.ts).
import { DisposedError, FormatError, InputError } from '../errors.js';
import { checkKeys, toRows, type Matrix, type Rows } from '../data.js';
import { arena as sharedArena } from '../runtime/context.js';
import { ACTIVATIONS, Kernels, type ActivationName } from '../runtime/kernels.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import { Dense, type Layer } from '../nn/layers.js';
import { Dropout } from '../nn/dropout.js';
import { Staging } from '../runtime/staging.js';
import { addDetectorState, modelMetadata, readNormalizer, readThreshold, type DetectorState } from '../io/model-file.js';
import { denormalizeRows, normalizeRows, type NormalizeKind, type Normalizer } from './normalizer.js';
import { calibrateScorer, checkScoreOptions, detectRows, rowErrors, type CalibrationRule, type Detection, type ScoreMetric, type ScoreOptions } from './detector.js';
import { writeSafetensors, type SafetensorsFile, type TensorToWrite } from '../io/safetensors.js';

/**
 * How activations (each dense layer's input) are quantized:
 * - 'dynamic': per row at run time, scale max|row|/127 (no calibration needed);
 * - 'static': one scale per layer, max|input|/127 over the calibration rows (values beyond it
 *   saturate at ±127).
 * Measured on MNIST (docs/int8.md): dynamic is the more accurate, so it is the default.
 */
export type ActivationQuantization = 'dynamic' | 'static';

export interface QuantizeOptions {
  /** Rows that look like the data the model will see: needed by activations 'static'. */
  calibration?: Matrix;
  /** Default 'dynamic'. */
  activations?: ActivationQuantization;
}

/** One quantized dense layer y = f(dequant(q(x)·Wqᵀ) + b), named as the f32 model names it. */
export interface QuantizedLayerConfig {
  /** PyTorch prefix of the Linear: `encoder.0`, `mu`, `decoder.2`, ... */
  name: string;
  inSize: number;
  outSize: number;
  activation: ActivationName;
  /** leakyRelu slope / elu alpha (the layer's resolved value). */
  alpha: number;
}

/** Everything needed to rebuild a QuantizedModel (stored as the file's config). */
export interface QuantizedConfig {
  /** The kind of the f32 model it was made from ('autoencoder', 'vae', ...). */
  source: string;
  inputSize: number;
  latentSize: number;
  activations: ActivationQuantization;
  /** x → code (the VAE's ends with its μ head), then code → reconstruction. */
  encoder: QuantizedLayerConfig[];
  decoder: QuantizedLayerConfig[];
  /** The source model's normalizer kind, when it normalizes (its statistics: the file's
   *  `normalizer.shift` / `normalizer.scale` tensors, as the f32 model's). */
  normalize?: NormalizeKind;
}

/** What a quantized model takes over from its f32 model besides the weights. */
export interface DetectorSource {
  normalize?: NormalizeKind;
  normalizer: Normalizer | null;
  threshold: number | undefined;
  thresholdMetric: ScoreMetric | undefined;
}

/** The layers an f32 model runs at inference: the encoder's up to the code, then the decoder's. */
export interface InferenceLayers {
  encoder: readonly Layer[];
  decoder: readonly Layer[];
}

/** The tensors of one quantized layer, as the file stores them. */
export interface LayerWeights {
  /** int8 [out, in], row-major. */
  weight: Int8Array;
  /** One scale per output channel: W ≈ weight[j, :]·weightScale[j]. */
  weightScale: Float32Array;
  bias: Float32Array;
  /** Static activation scale (activations 'static'); 0 for dynamic. */
  inputScale: number;
}

const QMAX = 127;
/** Rows per chunk of inference (as the f32 models). */
const INFER_ROWS = 256;
const QUANTIZE_KEYS = ['calibration', 'activations'] as const;
/** Scores of a quantized model: those of the Autoencoder family ('negElbo' needs the VAE's logvar
 *  head, which int8 inference leaves out). */
const SCORE_METRICS: readonly ScoreMetric[] = ['mse', 'mae', 'euclidean'];

/** Ties-to-even rounding, as f32.nearest does. */
function nearestEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/**
 * Symmetric int8 with one scale per output channel (row of W [out, in]):
 * s_j = max|W[j, :]|/127 (1 for a zero row), q = clamp(nearest(w / s_j), ±127), all in f32 as
 * the core quantizes activations. Error per weight ≤ s_j/2.
 */
export function quantizeWeights(w: Float32Array, out: number, inSize: number): { weight: Int8Array; weightScale: Float32Array } {
  const weight = new Int8Array(out * inSize);
  const weightScale = new Float32Array(out);
  for (let j = 0; j < out; j++) {
    let mx = 0;
    for (let p = 0; p < inSize; p++) mx = Math.max(mx, Math.abs(w[j * inSize + p]));
    let s = Math.fround(mx / QMAX);
    if (!(s > 0)) s = 1;
    weightScale[j] = s;
    for (let p = 0; p < inSize; p++) {
      weight[j * inSize + p] = Math.min(QMAX, Math.max(-QMAX, nearestEven(Math.fround(w[j * inSize + p] / s))));
    }
  }
  return { weight, weightScale };
}

/** One quantized layer: its config and its tensors (QuantizedModel.getLayers, toOnnx). */
export type QuantizedLayer = QuantizedLayerConfig & LayerWeights;

/** A dense layer on int8 weights: quantize x → int8 GEMM with the dequantizing epilogue → f(z). */
class QuantizedDense {
  readonly act: number;
  private readonly panels: Tensor;
  private readonly sw: Tensor;
  private readonly b: Tensor;
  private q: Tensor | null = null;
  private sa: Tensor | null = null;
  private z: Tensor | null = null;
  private capacity = 0;
  /** Largest |input| seen while calibrating (null when not calibrating). */
  observedMax: number | null = null;

  constructor(
    private readonly k: Kernels,
    readonly spec: QuantizedLayerConfig,
    readonly w: LayerWeights,
  ) {
    const a = k.arena;
    this.act = ACTIVATIONS[spec.activation];
    this.panels = a.alloc(k.i8PanelsSize(spec.outSize, spec.inSize));
    this.sw = a.alloc(spec.outSize);
    this.b = a.alloc(spec.outSize);
    k.packI8Panels(spec.outSize, spec.inSize, w.weight, this.panels);
    a.write(this.sw, w.weightScale);
    a.write(this.b, w.bias);
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    const a = this.k.arena;
    this.q = a.alloc(this.k.i8RowsSize(rows, this.spec.inSize));
    this.sa = a.alloc(rows);
    this.z = a.alloc(rows * this.spec.outSize);
    this.capacity = rows;
  }

  forward(x: Tensor, rows: number): Tensor {
    const { inSize, outSize } = this.spec;
    if (this.observedMax !== null) {
      const v = this.k.arena.f32(x);
      for (let i = 0; i < rows * inSize; i++) this.observedMax = Math.max(this.observedMax, Math.abs(v[i]));
    }
    this.k.quantizeRows(x, this.q!, this.sa!, rows, inSize, this.w.inputScale);
    this.k.gemmI8(rows, outSize, inSize, this.q!, this.panels, this.sa!, this.sw, this.b, this.z!);
    if (this.act !== ACTIVATIONS.linear) this.k.actForward(this.act, this.spec.alpha, this.z!, this.z!, rows * outSize);
    return this.z!;
  }

  tensors(): TensorToWrite[] {
    const { name, inSize, outSize } = this.spec;
    const t: TensorToWrite[] = [
      { name: `${name}.weight`, shape: [outSize, inSize], data: this.w.weight },
      { name: `${name}.weight_scale`, shape: [outSize], data: this.w.weightScale },
      { name: `${name}.bias`, shape: [outSize], data: this.w.bias },
    ];
    if (this.w.inputScale > 0) t.push({ name: `${name}.input_scale`, shape: [], data: Float32Array.of(this.w.inputScale) });
    return t;
  }

  dispose(): void {
    this.releaseBuffers();
    for (const t of [this.panels, this.sw, this.b]) this.k.arena.release(t);
  }

  private releaseBuffers(): void {
    for (const t of [this.q, this.sa, this.z]) if (t) this.k.arena.release(t);
    this.q = this.sa = this.z = null;
    this.capacity = 0;
  }
}

/**
 * An int8 model made by `model.quantize()` or loaded from its file: encode, decode, reconstruct,
 * reconstructionError / score, save, dispose, as the f32 model it came from. Inference only.
 * Every dense layer: x quantized to int8 (per row, or with its calibrated scale), W int8 with one
 * scale per output channel, exact i32 sums, f32 bias and activation: the same bits on every
 * engine and in both builds (assembly/int8.ts).
 */
export class QuantizedModel implements DetectorState {
  readonly kind = 'quantized';
  readonly config: QuantizedConfig;
  readonly scoreMetrics = SCORE_METRICS;
  readonly arena: Arena;
  private readonly k: Kernels;
  private readonly encoder: QuantizedDense[] = [];
  private readonly decoder: QuantizedDense[] = [];
  private readonly staging: Staging;
  private perRow: Tensor | null = null;
  private capacity = 0;
  private disposed = false;
  private norm: Normalizer | null = null;
  private thresholdValue: number | undefined;
  private thresholdMetricValue: ScoreMetric | undefined;

  /** Built by quantizeModel and loadModel; `weights` holds each layer's tensors by name. */
  constructor(config: QuantizedConfig, weights: Map<string, LayerWeights>) {
    this.config = config;
    this.arena = sharedArena();
    this.k = new Kernels(this.arena);
    this.staging = new Staging(this.arena, Math.max(config.inputSize, config.latentSize));
    try {
      for (const spec of config.encoder) this.encoder.push(new QuantizedDense(this.k, spec, weights.get(spec.name)!));
      for (const spec of config.decoder) this.decoder.push(new QuantizedDense(this.k, spec, weights.get(spec.name)!));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get inputSize(): number {
    return this.config.inputSize;
  }

  /** The f32 model's normalizer, x' = (x − shift) / scale per feature, or null. */
  get normalizer(): Normalizer | null {
    return this.norm;
  }

  setNormalizer(n: Normalizer): void {
    this.norm = n;
  }

  /** The threshold predict and detect use (the f32 model's when it had one, or calibrate's). */
  get threshold(): number | undefined {
    return this.thresholdValue;
  }

  get thresholdMetric(): ScoreMetric | undefined {
    return this.thresholdMetricValue;
  }

  setThreshold(t: number | undefined, metric: ScoreMetric): void {
    this.thresholdValue = t;
    this.thresholdMetricValue = t === undefined ? undefined : metric;
  }

  get latentSize(): number {
    return this.config.latentSize;
  }

  /** Codes, rows × latentSize (the VAE's μ). */
  encode(x: Matrix): Float32Array {
    this.alive();
    return this.map(toRows(x, this.inputSize, 'x'), this.latentSize, (xb, rows) => run(this.encoder, xb, rows));
  }

  /** Decoded rows (rows × inputSize, in the input's units) from codes z (rows × latentSize). */
  decode(z: Matrix): Float32Array {
    this.alive();
    return this.toInputUnits(this.map(toRows(z, this.latentSize, 'z'), this.inputSize, (zb, rows) => run(this.decoder, zb, rows), false));
  }

  /** decode(encode(x)), rows × inputSize, in x's units. */
  reconstruct(x: Matrix): Float32Array {
    this.alive();
    return this.toInputUnits(this.map(toRows(x, this.inputSize, 'x'), this.inputSize, (xb, rows) => this.reconstructRows(xb, rows)));
  }

  /** Per-row mean squared error of the reconstruction (normalized units when the model
   *  normalizes); the same as score(x). */
  reconstructionError(x: Matrix): Float32Array {
    return this.score(x);
  }

  /** Per-row anomaly scores: 'mse' (default), 'mae' or 'euclidean' (see ScoreMetric). */
  score(x: Matrix, options?: ScoreOptions): Float32Array {
    this.alive();
    const metric = checkScoreOptions(options, this.scoreMetrics);
    return this.map(toRows(x, this.inputSize, 'x'), 1, (xb, rows) => {
      const y = this.reconstructRows(xb, rows);
      if (metric === 'mse') this.k.rowMse(y, xb, this.perRow!, rows, this.inputSize);
      else rowErrors(metric as 'mae' | 'euclidean', this.arena.f32(y), this.arena.f32(xb), this.arena.f32(this.perRow!), rows, this.inputSize);
      return this.perRow!;
    });
  }

  /** Sets the threshold from the scores of rows x (mostly normal) by a rule; returns it. */
  calibrate(x: Matrix, rule: CalibrationRule): number {
    this.alive();
    return calibrateScorer(this, x, rule);
  }

  /** Scores, flags (1 = anomaly: score > threshold) and the threshold. */
  detect(x: Matrix): Detection {
    this.alive();
    return detectRows(this, x);
  }

  /** 1 for each row flagged as an anomaly, else 0. */
  predict(x: Matrix): Uint8Array {
    return this.detect(x).flags;
  }

  /**
   * One safetensors file: per layer `<name>.weight` I8 [out, in], `<name>.weight_scale` F32
   * [out], `<name>.bias` F32 [out] and, with static activations, `<name>.input_scale` F32 [];
   * the config in `__metadata__` (kind 'quantized'). `loadModel` restores it.
   */
  save(): Uint8Array {
    this.alive();
    const tensors = [...this.encoder, ...this.decoder].flatMap((l) => l.tensors());
    const metadata = modelMetadata(this.kind, this.config);
    addDetectorState(this, tensors, metadata);
    return writeSafetensors(tensors, metadata);
  }

  /** Every layer's config and tensors (copies), x → code, then code → reconstruction. */
  getLayers(): { encoder: QuantizedLayer[]; decoder: QuantizedLayer[] } {
    this.alive();
    const copy = (l: QuantizedDense): QuantizedLayer => ({
      ...l.spec, weight: l.w.weight.slice(), weightScale: l.w.weightScale.slice(), bias: l.w.bias.slice(), inputScale: l.w.inputScale,
    });
    return { encoder: this.encoder.map(copy), decoder: this.decoder.map(copy) };
  }

  /** Frees the model's memory. Any later call throws DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.staging.release();
    if (this.perRow) this.arena.release(this.perRow);
    for (const l of [...this.encoder, ...this.decoder]) l.dispose();
  }

  /** Runs the calibration rows through the model and fixes each layer's static input scale. */
  calibrateScales(data: Rows): void {
    const layers = [...this.encoder, ...this.decoder];
    for (const l of layers) l.observedMax = 0;
    this.chunks(data, (xb, rows) => this.reconstructRows(xb, rows));
    for (const l of layers) {
      const s = Math.fround(l.observedMax! / QMAX);
      l.w.inputScale = s > 0 ? s : 1;
      l.observedMax = null;
    }
  }

  private reconstructRows(x: Tensor, rows: number): Tensor {
    return run(this.decoder, run(this.encoder, x, rows), rows);
  }

  /** Stages x chunk by chunk (normalized when `inputs` and the model normalizes). */
  private chunks(data: Rows, fn: (xb: Tensor, rows: number, start: number) => void, inputs = true): void {
    const chunk = Math.min(data.rows, INFER_ROWS);
    if (chunk > this.capacity) {
      if (this.perRow) this.arena.release(this.perRow);
      this.staging.reserve(chunk);
      this.perRow = this.arena.alloc(chunk);
      for (const l of [...this.encoder, ...this.decoder]) l.reserve(chunk);
      this.capacity = chunk;
    }
    for (let start = 0; start < data.rows; start += chunk) {
      const rows = Math.min(chunk, data.rows - start);
      const xb = this.staging.stage(data, null, start, rows);
      if (inputs && this.norm) normalizeRows(this.arena.f32(xb), rows, this.norm);
      fn(xb, rows, start);
    }
  }

  private map(data: Rows, outWidth: number, fn: (xb: Tensor, rows: number) => Tensor, inputs = true): Float32Array {
    const out = new Float32Array(data.rows * outWidth);
    this.chunks(data, (xb, rows, start) => out.set(this.arena.f32(fn(xb, rows)).subarray(0, rows * outWidth), start * outWidth), inputs);
    return out;
  }

  private toInputUnits(y: Float32Array): Float32Array {
    if (this.norm) denormalizeRows(y, this.norm);
    return y;
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('this QuantizedModel was disposed');
  }
}

function run(layers: readonly QuantizedDense[], x: Tensor, rows: number): Tensor {
  let h = x;
  for (const l of layers) h = l.forward(h, rows);
  return h;
}

/**
 * The int8 model of an f32 one (ModelBase.quantize): see QuantizeOptions. The normalizer and the
 * threshold come along (a threshold on 'negElbo' does not: the int8 VAE has no logvar head).
 */
export function quantizeModel(
  source: string, layers: InferenceLayers, inputSize: number, latentSize: number, detector: DetectorSource, options: QuantizeOptions = {},
): QuantizedModel {
  if (typeof options !== 'object' || options === null) throw new InputError(`quantize options must be an object; got ${String(options)}`);
  checkKeys(options, QUANTIZE_KEYS, 'quantize options');
  const activations = options.activations ?? 'dynamic';
  if (activations !== 'dynamic' && activations !== 'static') {
    throw new InputError(`quantize options.activations must be 'dynamic' or 'static'; got ${JSON.stringify(activations)}`);
  }
  if (activations === 'static' && options.calibration === undefined) {
    throw new InputError("quantize options.calibration is missing: activations 'static' takes its scales from calibration rows (rows × inputSize)");
  }
  const calibration = options.calibration === undefined ? null : toRows(options.calibration, inputSize, 'calibration');
  if (detector.normalize !== undefined && !detector.normalizer) {
    throw new InputError(`this model's ${detector.normalize} normalizer is not fitted yet: call fit(x) or fitNormalizer(x) before quantize`);
  }
  const weights = new Map<string, LayerWeights>();
  const describe = (list: readonly Layer[], part: string): QuantizedLayerConfig[] =>
    list.flatMap((l, i) => {
      if (l instanceof Dropout) return []; // the identity at inference
      if (!(l instanceof Dense)) {
        throw new InputError(`quantize supports dense layers (and dropout); ${part} layer ${i} is '${l.spec.type}', which int8 inference does not cover yet`);
      }
      const name = l.weight.name.replace(/\.weight$/, '');
      const spec: QuantizedLayerConfig = {
        name, inSize: l.inSize, outSize: l.outSize, activation: l.activationName,
        alpha: l.alpha,
      };
      const q = quantizeWeights(sharedArena().read(l.weight.value), l.outSize, l.inSize);
      weights.set(name, { ...q, bias: sharedArena().read(l.bias.value), inputScale: 0 });
      return [spec];
    });
  const config: QuantizedConfig = {
    source, inputSize, latentSize, activations,
    encoder: describe(layers.encoder, 'encoder'),
    decoder: describe(layers.decoder, 'decoder'),
  };
  if (detector.normalize !== undefined) config.normalize = detector.normalize;
  const model = new QuantizedModel(config, weights);
  if (detector.normalizer) model.setNormalizer(detector.normalizer);
  if (detector.threshold !== undefined && SCORE_METRICS.includes(detector.thresholdMetric!)) model.setThreshold(detector.threshold, detector.thresholdMetric!);
  if (activations === 'static') model.calibrateScales(calibration!);
  return model;
}

/**
 * Rebuilds a QuantizedModel from its file (loadModel): the config checked, and every layer's
 * tensors present with the right dtype and shape, scales finite and > 0, biases finite;
 * nothing else in the file. Any problem is a FormatError naming the tensor.
 */
export function loadQuantized(file: SafetensorsFile, raw: unknown): QuantizedModel {
  const config = checkQuantizedConfig(raw);
  const weights = new Map<string, LayerWeights>();
  const expected = new Set<string>();
  const get = (name: string, dtype: 'I8' | 'F32', shape: number[]) => {
    expected.add(name);
    const e = file.tensors.get(name);
    if (!e) throw new FormatError(`tensor '${name}' (${dtype} [${shape.join(', ')}]) is missing from the quantized model file`);
    if (e.dtype !== dtype) throw new FormatError(`tensor '${name}' has dtype ${e.dtype}; a quantized model stores it as ${dtype}`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(`tensor '${name}' has shape [${e.shape.join(', ')}]; the model needs [${shape.join(', ')}]`);
    }
    // a copy: the file's bytes may be unaligned and are the caller's
    return dtype === 'I8' ? Int8Array.from(new Int8Array(e.bytes.buffer, e.bytes.byteOffset, e.bytes.length)) : f32Copy(e.bytes);
  };
  const positive = (name: string, v: Float32Array) => {
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] > 0 && v[i] < Infinity)) throw new FormatError(`tensor '${name}' holds ${v[i]} at index ${i}; scales must be finite and > 0`);
    }
    return v;
  };
  for (const l of [...config.encoder, ...config.decoder]) {
    const weight = get(`${l.name}.weight`, 'I8', [l.outSize, l.inSize]) as Int8Array;
    for (let i = 0; i < weight.length; i++) {
      if (weight[i] === -128) throw new FormatError(`tensor '${l.name}.weight' holds -128 at index ${i}; symmetric int8 weights lie in [-127, 127]`);
    }
    const weightScale = positive(`${l.name}.weight_scale`, get(`${l.name}.weight_scale`, 'F32', [l.outSize]) as Float32Array);
    const bias = get(`${l.name}.bias`, 'F32', [l.outSize]) as Float32Array;
    for (let i = 0; i < bias.length; i++) {
      if (!Number.isFinite(bias[i])) throw new FormatError(`tensor '${l.name}.bias' holds ${bias[i]} at index ${i}; weights must be finite`);
    }
    const inputScale = config.activations === 'static'
      ? positive(`${l.name}.input_scale`, get(`${l.name}.input_scale`, 'F32', []) as Float32Array)[0]
      : 0;
    weights.set(l.name, { weight, weightScale, bias, inputScale });
  }
  const state: DetectorState = { config, inputSize: config.inputSize, normalizer: null, threshold: undefined, thresholdMetric: undefined, scoreMetrics: SCORE_METRICS };
  const normalizer = readNormalizer(state, file, expected);
  const threshold = readThreshold(state, file.metadata ?? {});
  const extra = [...file.tensors.keys()].filter((n) => !expected.has(n));
  if (extra.length) throw new FormatError(`the file holds tensors this quantized model does not have: ${extra.slice(0, 5).join(', ')}`);
  const model = new QuantizedModel(config, weights);
  if (normalizer) model.setNormalizer(normalizer);
  if (threshold) model.setThreshold(threshold.value, threshold.metric);
  return model;
}

function f32Copy(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** The stored config, checked: layer chain widths, activations, names. */
function checkQuantizedConfig(raw: unknown): QuantizedConfig {
  const c = raw as Partial<QuantizedConfig>;
  const bad = (what: string) => new FormatError(`the quantized model's config is invalid: ${what}`);
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (!int(c.inputSize) || !int(c.latentSize)) throw bad('inputSize and latentSize must be integers ≥ 1');
  if (c.activations !== 'dynamic' && c.activations !== 'static') throw bad(`activations must be 'dynamic' or 'static'; got ${JSON.stringify(c.activations)}`);
  if (typeof c.source !== 'string') throw bad('source must be a string');
  const names = new Set<string>();
  const chain = (list: unknown, part: string, from: number, to: number): QuantizedLayerConfig[] => {
    if (!Array.isArray(list) || list.length === 0) throw bad(`${part} must be a non-empty array of layers`);
    let width = from;
    const out = list.map((l: Partial<QuantizedLayerConfig>, i) => {
      const w = `${part}[${i}]`;
      if (typeof l !== 'object' || l === null || typeof l.name !== 'string' || !/^[A-Za-z0-9_.]+$/.test(l.name)) throw bad(`${w}.name must be a tensor prefix`);
      if (names.has(l.name)) throw bad(`${w}.name '${l.name}' is a duplicate`);
      names.add(l.name);
      if (l.inSize !== width || !int(l.outSize)) throw bad(`${w} must take ${width} values in and give an integer ≥ 1 out`);
      if (typeof l.activation !== 'string' || !Object.hasOwn(ACTIVATIONS, l.activation)) throw bad(`${w}.activation ${JSON.stringify(l.activation)} is unknown`);
      if (typeof l.alpha !== 'number' || !Number.isFinite(l.alpha)) throw bad(`${w}.alpha must be a finite number`);
      width = l.outSize!;
      return { name: l.name, inSize: l.inSize, outSize: l.outSize!, activation: l.activation, alpha: l.alpha };
    });
    if (width !== to) throw bad(`${part} ends with ${width} values; expected ${to}`);
    return out;
  };
  const out: QuantizedConfig = {
    source: c.source, inputSize: c.inputSize!, latentSize: c.latentSize!, activations: c.activations,
    encoder: chain(c.encoder, 'encoder', c.inputSize!, c.latentSize!),
    decoder: chain(c.decoder, 'decoder', c.latentSize!, c.inputSize!),
  };
  if (c.normalize !== undefined) {
    if (!['standard', 'minmax', 'fixed'].includes(c.normalize)) throw bad(`normalize ${JSON.stringify(c.normalize)} is unknown`);
    out.normalize = c.normalize;
  }
  return out;
}
