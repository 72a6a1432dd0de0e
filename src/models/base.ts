import { DisposedError, InputError, TrainingError } from '../errors.js';
import { checkNumber, toRows, type Matrix, type Rows } from '../data.js';
import { arena as sharedArena } from '../runtime/context.js';
import { Kernels } from '../runtime/kernels.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import type { Param, Sequential } from '../nn/layers.js';
import { quantizeModel, type InferenceLayers, type QuantizedModel, type QuantizeOptions } from './quantized.js';
import { Optimizer, type OptimizerConfig, type ResolvedOptimizer } from '../nn/optimizers.js';
import { fit, stage, type FitOptions, type History, type Trainable } from '../train/fit.js';
import { loadSafetensorsInto, saveModel, type SaveOptions } from '../io/model-file.js';
import { denormalizeRows, normalizeRows, NormalizerFitter, resolveNormalize, type NormalizeKind, type Normalizer } from './normalizer.js';
import { calibrateScorer, checkScoreOptions, detectRows, rowErrors, type CalibrationRule, type Detection, type ScoreMetric, type ScoreOptions } from './detector.js';

/** What every resolved model config holds. */
export interface BaseConfig {
  inputSize: number;
  latentSize: number;
  optimizer: ResolvedOptimizer;
  seed: number;
  /** Absent for no normalization (files written before normalization had none either). */
  normalize?: NormalizeKind;
}

/** Rows processed per call of the layers during inference. */
const INFER_ROWS = 256;

/**
 * What every model of the family shares: the arena, kernels, seeded generator and optimizer,
 * the buffers sized by reserve(), staged chunked inference, the one fit loop, weights, dispose.
 * A subclass builds its layers in its constructor, then calls ready(); it supplies the forward
 * and backward of one batch (computeGradients / computeLoss) and its own buffers.
 */
export abstract class ModelBase<C extends BaseConfig> implements Trainable {
  /** A string tag naming the model class ('autoencoder', 'vae', ...). */
  abstract readonly kind: string;
  readonly config: C;
  readonly arena: Arena;
  readonly rng: Rng;
  /** Set to true (e.g. from a callback) to stop fit after the current batch. */
  stopTraining = false;
  /** Extra per-batch values the objective reports besides the loss (history and logs). */
  readonly metricNames: readonly string[] = [];
  /** The values of metricNames for the last trainStep or evalStep. */
  readonly lastMetrics = new Float64Array(4);
  protected readonly k: Kernels;
  protected capacity = 0;
  /** Staging for inference chunks: rows × max(inputSize, latentSize). */
  protected staging: Tensor | null = null;
  protected perRow: Tensor | null = null;
  /** The scores a model offers (the VAE adds 'negElbo'). */
  readonly scoreMetrics: readonly ScoreMetric[] = ['mse', 'mae', 'euclidean'];
  private opt: Optimizer | null = null;
  private disposed = false;
  private training = false;
  private norm: Normalizer | null = null;
  private thresholdValue: number | undefined;
  private thresholdMetricValue: ScoreMetric | undefined;

  /** `normalize` is the user's option (see NormalizeOption); its kind goes into the config. */
  constructor(config: C, normalize?: unknown) {
    const n = resolveNormalize(normalize, config.inputSize);
    if (n.kind) config.normalize = n.kind;
    this.norm = n.normalizer;
    this.config = config;
    this.arena = sharedArena();
    this.k = new Kernels(this.arena);
    this.rng = new Rng(this.arena, config.seed);
  }

  /** Called by the subclass once its layers exist and are initialised. */
  protected ready(): void {
    this.opt = new Optimizer(this.k, this.params(), this.config.optimizer as unknown as OptimizerConfig);
  }

  get optimizer(): Optimizer {
    return this.opt!;
  }

  get inputSize(): number {
    return this.config.inputSize;
  }

  get latentSize(): number {
    return this.config.latentSize;
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  set learningRate(lr: number) {
    this.optimizer.learningRate = lr;
  }

  /** Every trainable tensor with its PyTorch name, in a fixed order. */
  abstract params(): Param[];

  /** Trains on x (the target is x itself). See FitOptions. */
  async fit(x: Matrix, options?: FitOptions): Promise<History> {
    this.alive();
    if (this.training) throw new InputError('fit is already running on this model');
    this.training = true;
    try {
      return await fit(this, x, options);
    } finally {
      this.training = false;
    }
  }

  /** Decoded rows (rows × inputSize) from codes z (rows × latentSize). */
  decode(z: Matrix): Float32Array {
    this.alive();
    const data = toRows(z, this.latentSize, 'z');
    return this.toInputUnits(this.map(data, this.inputSize, (zb, rows) => this.decoderNet.forward(zb, rows, false), false));
  }

  /** The model's deterministic reconstruction of x, rows × inputSize, in x's units. */
  reconstruct(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.toInputUnits(this.map(data, this.inputSize, (xb, rows) => this.reconstructRows(xb, rows)));
  }

  /** Per-row anomaly score: the mean squared error of each row's reconstruction (normalized
   *  units when the model normalizes); the same as score(x). */
  reconstructionError(x: Matrix): Float32Array {
    return this.score(x);
  }

  // ---- normalization (normalizer.ts) ----

  /** The fitted normalizer, x' = (x − shift) / scale per feature, or null (none, or not fitted yet). */
  get normalizer(): Normalizer | null {
    return this.norm;
  }

  /** Fits the normalizer ('standard' or 'minmax') on rows x; fit does it at its first call. */
  fitNormalizer(x: Matrix): Normalizer {
    this.alive();
    const fitter = this.normalizerFitter(true)!;
    const data = toRows(x, this.inputSize, 'x');
    fitter.add(data.data, data.rows);
    return this.setNormalizer(fitter.finish());
  }

  /** A fitter for the normalizer when it is to be fitted: always when `explicit`, else (fit) only
   *  when it has not been fitted yet. Null when there is nothing to fit. */
  normalizerFitter(explicit = false): NormalizerFitter | null {
    const kind = this.config.normalize;
    if (kind !== 'standard' && kind !== 'minmax') {
      if (explicit) throw new InputError(`fitNormalizer needs a model with normalize 'standard' or 'minmax'; this one has ${kind === 'fixed' ? 'fixed statistics' : "'none'"}`);
      return null;
    }
    return explicit || !this.norm ? new NormalizerFitter(kind, this.inputSize) : null;
  }

  setNormalizer(n: Normalizer): Normalizer {
    this.norm = n;
    return n;
  }

  /** Normalizes `rows` rows staged in x, in place (every batch passes here after staging). */
  prepareBatch(x: Tensor, rows: number): void {
    if (this.config.normalize === undefined) return;
    if (!this.norm) {
      throw new InputError(this.config.normalize === 'fixed'
        ? "normalize is 'fixed' but the model has no statistics: give normalize: { mean, std } or { min, max }"
        : `the ${this.config.normalize} normalizer is not fitted yet: call fit(x) or fitNormalizer(x) first`);
    }
    normalizeRows(this.arena.f32(x), rows, this.norm);
  }

  // ---- detection (detector.ts) ----

  /** The threshold calibrate set (or one assigned), used by predict and detect. */
  get threshold(): number | undefined {
    return this.thresholdValue;
  }

  set threshold(t: number | undefined) {
    this.setThreshold(t === undefined ? undefined : checkNumber(t, 'threshold'), this.thresholdMetricValue ?? 'mse');
  }

  /** The score the threshold applies to. */
  get thresholdMetric(): ScoreMetric | undefined {
    return this.thresholdMetricValue;
  }

  setThreshold(t: number | undefined, metric: ScoreMetric): void {
    this.thresholdValue = t;
    this.thresholdMetricValue = t === undefined ? undefined : metric;
  }

  /** Per-row anomaly scores (see ScoreMetric); default 'mse'. */
  score(x: Matrix, options?: ScoreOptions): Float32Array {
    this.alive();
    const metric = checkScoreOptions(options, this.scoreMetrics);
    const data = toRows(x, this.inputSize, 'x');
    this.beginEval?.();
    return this.map(data, 1, (xb, rows) => this.scoreRows(xb, rows, metric));
  }

  /** Sets model.threshold from the scores of rows x (mostly normal) by a rule; returns it. */
  calibrate(x: Matrix, rule: CalibrationRule): number {
    this.alive();
    return calibrateScorer(this, x, rule);
  }

  /** Scores, flags (1 = anomaly: score > threshold) and the threshold; needs calibrate first. */
  detect(x: Matrix): Detection {
    this.alive();
    return detectRows(this, x);
  }

  /** 1 for each row flagged as an anomaly, else 0; needs calibrate first. */
  predict(x: Matrix): Uint8Array {
    return this.detect(x).flags;
  }

  /** |x − reconstruct(x)| per value, rows × inputSize, in x's units: which features are off. */
  featureErrors(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    const out = this.reconstruct(data.data);
    for (let i = 0; i < out.length; i++) out[i] = Math.abs(data.data[i] - out[i]);
    return out;
  }

  /**
   * A model built from `config` with the weights of a safetensors file that has no latent-wasm
   * metadata (saved from PyTorch): names and shapes must match the architecture exactly.
   * `Autoencoder.fromSafetensors(bytes, config)`, `VAE.fromSafetensors(bytes, config)`, ...
   */
  static fromSafetensors<M extends ModelBase<BaseConfig>, Cfg>(
    this: new (config: Cfg) => M,
    bytes: Uint8Array | ArrayBuffer,
    config: Cfg,
  ): M {
    return loadSafetensorsInto(new this(config), bytes as Uint8Array);
  }

  /** One safetensors file: the weights under PyTorch's names and the config; see SaveOptions. */
  save(options?: SaveOptions): Uint8Array {
    this.alive();
    return saveModel(this, options);
  }

  /** Copies of every parameter by its PyTorch name. */
  getWeights(): Record<string, Float32Array> {
    this.alive();
    const out: Record<string, Float32Array> = {};
    for (const p of this.params()) out[p.name] = this.arena.read(p.value);
    return out;
  }

  /**
   * The int8 model of this one (docs/int8.md): int8 weights with one scale per output channel,
   * activations quantized per row ('dynamic', the default) or with scales from `calibration`
   * rows ('static'). Dense and dropout layers; other layers throw an InputError naming them.
   * The normalizer and the threshold (unless on 'negElbo') come along.
   */
  quantize(options?: QuantizeOptions): QuantizedModel {
    this.alive();
    const detector = { normalize: this.config.normalize, normalizer: this.normalizer, threshold: this.threshold, thresholdMetric: this.thresholdMetric };
    return quantizeModel(this.kind, this.inferenceLayers(), this.inputSize, this.latentSize, detector, options);
  }

  /** Frees the model's memory. Any later call throws DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.releaseBuffers();
    this.opt?.dispose();
    this.disposeLayers();
    this.rng.dispose();
  }

  // ---- Trainable ----

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    this.staging = this.arena.alloc(rows * Math.max(this.inputSize, this.latentSize));
    this.perRow = this.arena.alloc(rows);
    this.allocBuffers(rows);
    this.capacity = rows;
  }

  /**
   * One optimisation step. A non-finite loss or gradient throws TrainingError before any weight
   * changes. clipValue > 0 clamps every gradient value to [−clipValue, clipValue] first.
   */
  trainStep(x: Tensor, rows: number, clipValue = 0): number {
    this.alive();
    const loss = this.computeGradients(x, rows);
    const step = this.optimizer.step + 1;
    if (!Number.isFinite(loss)) {
      throw new TrainingError(`the loss became ${loss} at step ${step}; the weights are those of the last good step`);
    }
    if (clipValue > 0) {
      for (const p of this.params()) {
        // clamping would turn ±Infinity into finite values: refuse those first
        if (this.k.countNonFinite(p.grad) > 0) {
          throw new TrainingError(`the gradients became non-finite at step ${step}; the weights are those of the last good step`);
        }
        this.k.clamp(p.grad, -clipValue, clipValue);
      }
    }
    const norm = this.optimizer.apply();
    if (!Number.isFinite(norm)) {
      throw new TrainingError(`the gradients became ${norm} at step ${step}; the weights are those of the last good step`);
    }
    return loss;
  }

  evalStep(x: Tensor, rows: number): number {
    return this.computeLoss(x, rows);
  }

  /** Called before a pass of evaluation (a VAE restarts its evaluation noise). */
  beginEval?(): void;

  // ---- what a model supplies ----

  /** The layers inference runs through: x → code (encode), then code → output (decode). */
  protected abstract inferenceLayers(): InferenceLayers;
  /** The network that maps codes to outputs (decode). */
  protected abstract get decoderNet(): Sequential;
  /** Inference: the reconstruction of `rows` staged rows. */
  protected abstract reconstructRows(x: Tensor, rows: number): Tensor;
  /** Training forward + backward on `rows` staged rows: fills every gradient, sets lastMetrics,
   *  returns the batch's loss. Must not change any weight. */
  protected abstract computeGradients(x: Tensor, rows: number): number;
  /** The loss without training (validation, evaluate); sets lastMetrics. */
  protected abstract computeLoss(x: Tensor, rows: number): number;
  /** Layers' and the model's own buffers for batches of `rows` rows. */
  protected abstract allocBuffers(rows: number): void;
  protected abstract releaseModelBuffers(): void;
  protected abstract disposeLayers(): void;

  /** Per-row scores of `rows` staged (normalized) rows into perRow. The VAE adds 'negElbo'. */
  protected scoreRows(x: Tensor, rows: number, metric: ScoreMetric): Tensor {
    const y = this.reconstructRows(x, rows);
    if (metric === 'mse') this.k.rowMse(y, x, this.perRow!, rows, this.inputSize);
    else rowErrors(metric as 'mae' | 'euclidean', this.arena.f32(y), this.arena.f32(x), this.arena.f32(this.perRow!), rows, this.inputSize);
    return this.perRow!;
  }

  // ---- shared internals ----

  /** Stages x into linear memory chunk by chunk (normalized when `inputs`) and calls fn on each. */
  protected chunks(data: Rows, fn: (xb: Tensor, rows: number, start: number) => void, inputs = true): void {
    const chunk = Math.min(data.rows, Math.max(this.capacity, INFER_ROWS));
    this.reserve(chunk);
    for (let start = 0; start < data.rows; start += chunk) {
      const rows = Math.min(chunk, data.rows - start);
      stage(this.arena, this.staging!, data, null, start, rows);
      if (inputs) this.prepareBatch(this.staging!, rows);
      fn(this.staging!, rows, start);
    }
  }

  /** Runs `run` on every chunk and copies `outWidth` values per row of its result out. */
  protected map(data: Rows, outWidth: number, run: (xb: Tensor, rows: number) => Tensor, inputs = true): Float32Array {
    const out = new Float32Array(data.rows * outWidth);
    this.chunks(data, (xb, rows, start) => {
      out.set(this.arena.f32(run(xb, rows)).subarray(0, rows * outWidth), start * outWidth);
    }, inputs);
    return out;
  }

  /** Model outputs in input space (normalized units) mapped back to the input's units, in place. */
  private toInputUnits(y: Float32Array): Float32Array {
    if (this.norm) denormalizeRows(y, this.norm);
    return y;
  }

  protected alive(): void {
    if (this.disposed) throw new DisposedError(`this ${this.constructor.name} was disposed`);
  }

  private releaseBuffers(): void {
    for (const t of [this.staging, this.perRow]) if (t) this.arena.release(t);
    this.staging = this.perRow = null;
    this.releaseModelBuffers();
    this.capacity = 0;
  }
}
