// int8 inference: `model.quantize()` turns any model of the family into a QuantizedModel whose
// dense, conv2d and convTranspose2d layers multiply int8 weights by int8 activations with exact
// i32 sums (assembly/int8.ts; convolutions through im2col, assembly/conv.ts).
import { DisposedError, FormatError, InputError } from '../errors.js';
import { checkKeys, toRows, type Matrix, type Rows } from '../data.js';
import { arena as sharedArena } from '../runtime/context.js';
import { ACTIVATIONS, Kernels, type ActivationName, type ConvGeometry } from '../runtime/kernels.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import { Conv2d, ConvTranspose2d, Dense, Dropout, Reshape, type Layer } from '../nn/layers.js';
import { Staging } from '../runtime/staging.js';
import { addDetectorState, modelMetadata, readNormalizer, readThreshold, type DetectorState } from '../io/model-file.js';
import { denormalizeRows, normalizeRows, type NormalizeKind, type Normalizer } from './normalizer.js';
import { calibrateScorer, checkScoreOptions, detectRows, rowErrors, type CalibrationRule, type Detection, type ScoreMetric, type ScoreOptions } from './detector.js';
import { writeSafetensors, type SafetensorsFile, type TensorToWrite } from '../io/safetensors.js';

/**
 * How activations (each layer's input) are quantized:
 * - 'dynamic': per row at run time, scale max|row|/127 (no calibration needed); a convolution's
 *   rows are its im2col patches (conv2d) or input pixels (convTranspose2d);
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
  /** Absent for dense layers. */
  type?: 'conv2d' | 'convTranspose2d';
  /** Convolutions: the window as im2col sees it (a transposed conv's is the conv it inverts, from
   *  its output [c, h, w] to its input [·, oh, ow]), as the f32 layer's `g`. */
  geometry?: ConvGeometry;
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
  /** int8 in PyTorch's layout, row-major: Linear [out, in], Conv2d [out, in, KH, KW],
   *  ConvTranspose2d [in, out, KH, KW]. */
  weight: Int8Array;
  /** One scale per output channel (weightShape's axis 0, a transposed conv's axis 1). */
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

/** quantizeWeights for W [a, b, kk] with one scale per index of axis 1 (ConvTranspose2d's
 *  [in, out, KH, KW]): the same scales and values as quantizing its [b, a·kk] transpose. */
function quantizeAxis1(w: Float32Array, a: number, b: number, kk: number): { weight: Int8Array; weightScale: Float32Array } {
  const t = new Float32Array(w.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let r = 0; r < kk; r++) t[(j * a + i) * kk + r] = w[(i * b + j) * kk + r];
  const q = quantizeWeights(t, b, a * kk);
  const weight = new Int8Array(w.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let r = 0; r < kk; r++) weight[(i * b + j) * kk + r] = q.weight[(j * a + i) * kk + r];
  return { weight, weightScale: q.weightScale };
}

/** The weight's shape as PyTorch stores it: Linear [out, in], Conv2d [out, in, KH, KW],
 *  ConvTranspose2d [in, out, KH, KW]. */
function weightShape(spec: QuantizedLayerConfig): number[] {
  const g = spec.geometry;
  if (!g) return [spec.outSize, spec.inSize];
  const pixels = g.oh * g.ow;
  return spec.type === 'conv2d' ? [spec.outSize / pixels, g.c, g.kh, g.kw] : [spec.inSize / pixels, g.c, g.kh, g.kw];
}

/** Output channels (weight scales, biases) of a layer. */
function channels(spec: QuantizedLayerConfig): number {
  const g = spec.geometry;
  return !g ? spec.outSize : spec.type === 'conv2d' ? spec.outSize / (g.oh * g.ow) : g.c;
}

/**
 * The one int8 product every layer kind runs: rows of k values quantized (one scale per row, or
 * the static one), times an int8 W [n × k] with one scale per output column, exact i32 sums,
 * dequantized with a bias. What the rows and columns are:
 * - dense: rows = samples, k = in, n = out (W is the layer's [out, in]);
 * - conv2d: rows = output pixels (im2col patches: dynamic scales are one per patch), k = C·KH·KW,
 *   n = out channels (W is [out, C·KH·KW], the layer's [out, C, KH, KW]);
 * - convTranspose2d: rows = input pixels (scales per pixel over its channels), k = in channels,
 *   n = out·KH·KW column values (W is the layer's [in, out, KH, KW] transposed, each column with
 *   its output channel's scale, no bias); col2im sums the columns into the image, then the bias.
 */
function gemmOperands(spec: QuantizedLayerConfig, w: LayerWeights): { n: number; k: number; weight: Int8Array; scale: Float32Array; bias: Float32Array } {
  const g = spec.geometry;
  if (spec.type !== 'convTranspose2d' || !g) {
    return { n: spec.type === 'conv2d' ? w.weightScale.length : spec.outSize, k: w.weight.length / w.weightScale.length, weight: w.weight, scale: w.weightScale, bias: w.bias };
  }
  const kk = g.kh * g.kw;
  const out = g.c;
  const cin = w.weight.length / (out * kk);
  const weight = new Int8Array(w.weight.length);
  const scale = new Float32Array(out * kk);
  for (let o = 0; o < out; o++) {
    for (let r = 0; r < kk; r++) {
      scale[o * kk + r] = w.weightScale[o];
      for (let ci = 0; ci < cin; ci++) weight[(o * kk + r) * cin + ci] = w.weight[(ci * out + o) * kk + r];
    }
  }
  return { n: out * kk, k: cin, weight, scale, bias: new Float32Array(out * kk) };
}

/** One int8 layer (dense, conv2d or convTranspose2d): quantize → int8 GEMM → the layer's epilogue. */
class QuantizedOp {
  readonly act: number;
  /** GEMM sizes: rows per sample (pixels for convolutions), columns, depth. */
  private readonly perSample: number;
  private readonly n: number;
  private readonly depth: number;
  private readonly panels: Tensor;
  private readonly sw: Tensor;
  private readonly b: Tensor;
  /** A transposed conv's bias per channel, added after col2im (its GEMM has none). */
  private readonly channelBias: Tensor | null = null;
  /** Per batch: the quantized rows and their scales, the GEMM's f32 output, the layer's output,
   *  and for convolutions the column matrix and its transpose (GEMM rows). */
  private bufs: Record<'q' | 'sa' | 'c' | 'z' | 'col' | 'colT', Tensor | null> = { q: null, sa: null, c: null, z: null, col: null, colT: null };
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
    const g = spec.geometry;
    const op = gemmOperands(spec, w);
    this.n = op.n;
    this.depth = op.k;
    // a conv's output pixels, or a transposed conv's input pixels (its geometry is the conv it inverts)
    this.perSample = g ? g.oh * g.ow : 1;
    this.panels = a.alloc(k.i8PanelsSize(op.n, op.k));
    this.sw = a.alloc(op.n);
    this.b = a.alloc(op.n);
    k.packI8Panels(op.n, op.k, op.weight, this.panels);
    a.write(this.sw, op.scale);
    a.write(this.b, op.bias);
    if (spec.type === 'convTranspose2d') {
      this.channelBias = a.alloc(w.bias.length);
      a.write(this.channelBias, w.bias);
    }
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    const a = this.k.arena;
    const m = rows * this.perSample;
    const b = this.bufs;
    b.q = a.alloc(this.k.i8RowsSize(m, this.depth));
    b.sa = a.alloc(m);
    b.c = a.alloc(m * this.n);
    if (this.spec.geometry) {
      b.z = a.alloc(rows * this.spec.outSize);
      // conv2d: the im2col matrix; convTranspose2d: the transposed input, later the column values
      b.col = a.alloc(m * Math.max(this.n, this.depth));
      b.colT = this.spec.type === 'conv2d' ? a.alloc(m * this.depth) : null;
    }
    this.capacity = rows;
  }

  forward(x: Tensor, rows: number): Tensor {
    const { inSize, outSize, geometry: g, type } = this.spec;
    if (this.observedMax !== null) {
      // the largest |value| of the input is that of its patches too (padding adds zeros)
      const v = this.k.arena.f32(x);
      for (let i = 0; i < rows * inSize; i++) this.observedMax = Math.max(this.observedMax, Math.abs(v[i]));
    }
    const { q, sa, c, col, colT } = this.bufs;
    const m = rows * this.perSample;
    const a = this.k.arena;
    let lhs = x;
    if (g && type === 'conv2d') {
      // patches as GEMM rows: im2col [C·KH·KW, rows·OH·OW] transposed
      this.k.im2col(x, col!, rows, g, true);
      this.k.swapBlocks(col!, colT!, this.depth, m, 1);
      lhs = colT!;
    } else if (g) {
      // a transposed conv's input pixels as GEMM rows: each sample [C, H·W] → [H·W, C]
      for (let r = 0; r < rows; r++) this.k.swapBlocks(a.view(x, r * inSize, [inSize]), a.view(col!, r * inSize, [inSize]), this.depth, this.perSample, 1);
      lhs = col!;
    }
    this.k.quantizeRows(lhs, q!, sa!, m, this.depth, this.w.inputScale);
    this.k.gemmI8(m, this.n, this.depth, q!, this.panels, sa!, this.sw, this.b, c!);
    let z = c!;
    if (g && type === 'conv2d') {
      // [rows, OH·OW, out] → NCHW, sample by sample
      z = this.bufs.z!;
      for (let r = 0; r < rows; r++) this.k.swapBlocks(a.view(c!, r * outSize, [outSize]), a.view(z, r * outSize, [outSize]), this.perSample, this.n, 1);
    } else if (g) {
      // the column values [rows·H·W, out·KH·KW] → [out·KH·KW, rows·H·W], summed into the image
      // by col2im (its fixed order), then the bias per channel with the activation
      z = this.bufs.z!;
      this.k.swapBlocks(c!, col!, m, this.n, 1);
      this.k.col2im(col!, z, rows, g, true);
      this.k.biasChannelsAct(this.act, this.spec.alpha, z, this.channelBias!, z, rows, g.c, g.h * g.w);
      return z;
    }
    if (this.act !== ACTIVATIONS.linear) this.k.actForward(this.act, this.spec.alpha, z, z, rows * outSize);
    return z;
  }

  tensors(): TensorToWrite[] {
    const { name } = this.spec;
    const t: TensorToWrite[] = [
      { name: `${name}.weight`, shape: weightShape(this.spec), data: this.w.weight },
      { name: `${name}.weight_scale`, shape: [this.w.weightScale.length], data: this.w.weightScale },
      { name: `${name}.bias`, shape: [this.w.bias.length], data: this.w.bias },
    ];
    if (this.w.inputScale > 0) t.push({ name: `${name}.input_scale`, shape: [], data: Float32Array.of(this.w.inputScale) });
    return t;
  }

  dispose(): void {
    this.releaseBuffers();
    for (const t of [this.panels, this.sw, this.b, this.channelBias]) if (t) this.k.arena.release(t);
  }

  private releaseBuffers(): void {
    for (const t of Object.values(this.bufs)) if (t) this.k.arena.release(t);
    this.bufs = { q: null, sa: null, c: null, z: null, col: null, colT: null };
    this.capacity = 0;
  }
}

/**
 * An int8 model made by `model.quantize()` or loaded from its file: encode, decode, reconstruct,
 * reconstructionError / score, save, dispose, as the f32 model it came from. Inference only.
 * Every dense or conv layer: x quantized to int8 (per row or patch, or with its calibrated scale),
 * W int8 with one scale per output channel, exact i32 sums, f32 bias and activation: the same bits
 * on every engine and in both builds (assembly/int8.ts).
 */
export class QuantizedModel implements DetectorState {
  readonly kind = 'quantized';
  readonly config: QuantizedConfig;
  readonly scoreMetrics = SCORE_METRICS;
  readonly arena: Arena;
  private readonly k: Kernels;
  private readonly encoder: QuantizedOp[] = [];
  private readonly decoder: QuantizedOp[] = [];
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
      for (const spec of config.encoder) this.encoder.push(new QuantizedOp(this.k, spec, weights.get(spec.name)!));
      for (const spec of config.decoder) this.decoder.push(new QuantizedOp(this.k, spec, weights.get(spec.name)!));
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
    const copy = (l: QuantizedOp): QuantizedLayer => ({
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

function run(layers: readonly QuantizedOp[], x: Tensor, rows: number): Tensor {
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
      // dropout is the identity at inference; flatten and reshape do not move the values of a row
      if (l instanceof Dropout || l instanceof Reshape) return [];
      if (!(l instanceof Dense || l instanceof Conv2d || l instanceof ConvTranspose2d)) {
        throw new InputError(`quantize supports dense, conv2d and convTranspose2d layers (and dropout, flatten, reshape); ${part} layer ${i} is '${l.spec.type}', which int8 inference does not cover yet`);
      }
      const name = l.weight.name.replace(/\.weight$/, '');
      const spec: QuantizedLayerConfig = {
        name, inSize: l.inSize, outSize: l.outSize, activation: l.activationName,
        alpha: l.alpha,
      };
      const w = sharedArena().read(l.weight.value);
      let q: { weight: Int8Array; weightScale: Float32Array };
      if (l instanceof Dense) q = quantizeWeights(w, l.outSize, l.inSize);
      else {
        spec.type = l instanceof Conv2d ? 'conv2d' : 'convTranspose2d';
        spec.geometry = { ...l.g };
        const [c0, c1, kh, kw] = l.weight.shape;
        // a conv's [out, in·KH·KW] rows are its channels; a transposed conv's channel is axis 1
        q = l instanceof Conv2d ? quantizeWeights(w, c0, c1 * kh * kw) : quantizeAxis1(w, c0, c1, kh * kw);
      }
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
    const weight = get(`${l.name}.weight`, 'I8', weightShape(l)) as Int8Array;
    for (let i = 0; i < weight.length; i++) {
      if (weight[i] === -128) throw new FormatError(`tensor '${l.name}.weight' holds -128 at index ${i}; symmetric int8 weights lie in [-127, 127]`);
    }
    const weightScale = positive(`${l.name}.weight_scale`, get(`${l.name}.weight_scale`, 'F32', [channels(l)]) as Float32Array);
    const bias = get(`${l.name}.bias`, 'F32', [channels(l)]) as Float32Array;
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

/**
 * A conv layer's stored window, checked against itself and the layer's sizes (the error is thrown
 * otherwise): integers in range, the conv's output size rule (torch.nn.Conv2d), and for a
 * transposed conv the output size that an output padding below max(stride, dilation) gives.
 */
function checkGeometry(l: Partial<QuantizedLayerConfig>, error: FormatError): ConvGeometry {
  const g = l.geometry as Partial<ConvGeometry> | undefined;
  const keys = ['c', 'h', 'w', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw', 'oh', 'ow'] as const;
  if (typeof g !== 'object' || g === null || !keys.every((k) => Number.isInteger(g[k]) && g[k]! >= (k === 'ph' || k === 'pw' ? 0 : 1))) throw error;
  const r = Object.fromEntries(keys.map((k) => [k, g[k]!])) as unknown as ConvGeometry;
  const span = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  const transposedOk = (n: number, on: number, k: number, s: number, p: number, d: number) => {
    const op = n - ((on - 1) * s - 2 * p + d * (k - 1) + 1);
    return op >= 0 && op < Math.max(s, d);
  };
  const pixels = r.oh * r.ow;
  const ok = l.type === 'conv2d'
    ? span(r.h, r.kh, r.sh, r.ph, r.dh) === r.oh && span(r.w, r.kw, r.sw, r.pw, r.dw) === r.ow
      && l.inSize === r.c * r.h * r.w && l.outSize! % pixels === 0
    : transposedOk(r.h, r.oh, r.kh, r.sh, r.ph, r.dh) && transposedOk(r.w, r.ow, r.kw, r.sw, r.pw, r.dw)
      && l.outSize === r.c * r.h * r.w && l.inSize! % pixels === 0;
  if (!ok) throw error;
  return r;
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
      const layer: QuantizedLayerConfig = { name: l.name, inSize: l.inSize, outSize: l.outSize!, activation: l.activation, alpha: l.alpha };
      if (l.type !== undefined) {
        if (l.type !== 'conv2d' && l.type !== 'convTranspose2d') throw bad(`${w}.type ${JSON.stringify(l.type)} is unknown`);
        layer.type = l.type;
        layer.geometry = checkGeometry(l, bad(`${w}.geometry must be a window (c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow) that fits its sizes`));
      }
      return layer;
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
