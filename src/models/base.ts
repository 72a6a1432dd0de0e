import { DisposedError, InputError, TrainingError } from '../errors.js';
import { checkNumber, checkUnitTargets, toRows, type Matrix, type Rows } from '../data.js';
import { arena as sharedArena } from '../runtime/context.js';
import { Kernels } from '../runtime/kernels.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import { Staging } from '../runtime/staging.js';
import type { InitName } from '../nn/init.js';
import type { Param, Sequential } from '../nn/layers.js';
import { Optimizer, stateSlots, type ResolvedOptimizer } from '../nn/optimizers.js';
import { ParamStore } from '../nn/params.js';
import { fit, type FitOptions, type History, type Trainable } from '../train/fit.js';
import type { DataSource } from '../train/source.js';
import { loadModelFile, loadSafetensorsInto, saveModel, type ModelClass, type SaveOptions } from '../io/model-file.js';
import { denormalizeRows, normalizeRows, NormalizerFitter, resolveNormalize, type NormalizeKind, type Normalizer } from './normalizer.js';
import { calibrateScorer, checkScoreOptions, detectRows, rowErrors, type CalibrationRule, type Detection, type ScoreMetric, type ScoreOptions } from './detector.js';
import { formatSummary, type SummaryPart } from './summary.js';
import { quantizeModel, type InferenceLayers, type QuantizedModel, type QuantizeOptions } from './quantized.js';

/** What every resolved model config holds. */
export interface BaseConfig {
  inputSize: number;
  latentSize: number;
  loss: string;
  optimizer: ResolvedOptimizer;
  seed: number;
  init: InitName;
  /** Absent for no normalization (files written before normalization had none either). */
  normalize?: NormalizeKind;
}

/** What evaluate returns: the mean loss, the metrics every model of the class reports (M, and
 *  E that only evaluate reports), and those only some configs report (O). */
export type Evaluation<M extends string, O extends string = never, E extends string = never> = { loss: number } & Record<M | E, number> &
  Partial<Record<O, number>>;

/** Rows processed per call of the layers during inference. */
const INFER_ROWS = 256;

/**
 * What every model of the family shares: the arena, kernels, seeded generator and optimizer,
 * the flat parameter buffers, the one staging buffer, chunked inference and evaluation, the one
 * fit loop, weights, dispose. A subclass declares its layers in its constructor (into `store`:
 * nothing is allocated while they are built), then calls ready(), the one construction path that
 * allocates, initialises, and frees everything again if any of it fails. It supplies the forward
 * and backward of one batch (computeGradients / computeLoss), recording its metrics by name.
 *
 * M: metric names every model of the class reports in training and evaluation; O: names only
 * some configs report (a sparse autoencoder's penalty); E: names only evaluate reports.
 */
export abstract class ModelBase<C extends BaseConfig, M extends string = never, O extends string = never, E extends string = never>
implements Trainable {
  /** A string tag naming the model class ('autoencoder', 'vae', ...): the class's static kind,
   *  which a model file records. */
  get kind(): string {
    return (this.constructor as unknown as { kind: string }).kind;
  }
  readonly config: C;
  readonly arena: Arena;
  /** Set to true (e.g. from a callback) to stop fit after the current batch. */
  stopTraining = false;
  /** The metrics (besides the loss) this model reports in training, per sample like the loss. */
  abstract readonly metricNames: readonly (M | O)[];
  /** The metrics evaluate reports besides metricNames. */
  protected readonly evaluationOnly: readonly E[] = [];
  /** The metrics of the last trainStep or evalStep, by name. */
  readonly lastMetrics: Record<string, number> = {};
  protected readonly k: Kernels;
  /** Every parameter, in one flat value buffer (with the optimizer's state) and one gradient buffer. */
  protected readonly store: ParamStore;
  protected capacity = 0;
  /** Per-row results (reconstructionError). */
  protected perRow: Tensor | null = null;
  /** The scores a model offers (the VAE adds 'negElbo'). */
  readonly scoreMetrics: readonly ScoreMetric[] = ['mse', 'mae', 'euclidean'];
  private readonly staging: Staging;
  private generator: Rng | null = null;
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
    this.store = new ParamStore(this.arena);
    this.staging = new Staging(this.arena, Math.max(config.inputSize, config.latentSize));
  }

  /**
   * The one construction path, called by the subclass once its layers are declared: allocates the
   * parameter buffers (with the optimizer's state), the generator and the optimizer, initialises
   * `nets` in order from the seed, then runs `more` (a model's own state). If anything fails,
   * everything allocated is released before the error propagates: a failed construction leaks
   * nothing.
   */
  protected ready(nets: readonly { init(rng: Rng, name: InitName): void }[], more?: () => void): void {
    try {
      this.store.allocate(stateSlots(this.config.optimizer));
      this.generator = new Rng(this.arena, this.config.seed);
      for (const n of nets) n.init(this.generator, this.config.init);
      this.opt = new Optimizer(this.k, this.store, this.config.optimizer);
      more?.();
    } catch (e) {
      this.opt?.dispose();
      this.generator?.dispose();
      this.store.dispose();
      this.disposeLayers();
      this.disposed = true;
      throw e;
    }
  }

  /** The model's seeded generator (init, shuffling, noise, dropout). */
  get rng(): Rng {
    return this.generator!;
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

  /** The rate the optimizer was configured with: where every learning-rate schedule starts. */
  get configuredLearningRate(): number {
    return this.config.optimizer.learningRate;
  }

  /** Every trainable tensor with its PyTorch name, in a fixed order. */
  abstract params(): Param[];

  /** Trains on x (the target is x itself): rows, or a streaming source of batches. See FitOptions. */
  async fit(x: Matrix | DataSource, options?: FitOptions): Promise<History<M, O>> {
    this.alive();
    if (this.training) throw new InputError('fit is already running on this model');
    this.training = true;
    try {
      return (await fit(this, x, options)) as History<M, O>;
    } finally {
      this.training = false;
    }
  }

  /** The mean loss on x and the model's metrics, per sample like the loss (see the subclass). */
  evaluate(x: Matrix): Evaluation<M, O, E> {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    this.checkTargets(data, 'x');
    return this.evaluateRows(data) as Evaluation<M, O, E>;
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
    return this.map(data, 1, (xb, rows, start) => this.scoreRows(xb, rows, metric, start));
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
  static fromSafetensors<Mo extends ModelBase<BaseConfig, string, string, string>, Cfg>(
    this: new (config: Cfg) => Mo,
    bytes: Uint8Array | ArrayBuffer,
    config: Cfg,
  ): Mo {
    return loadSafetensorsInto(new this(config), bytes as Uint8Array);
  }

  /**
   * The model a file written by `save()` holds, as this class: `VAE.load(bytes)` is a VAE, and a
   * file of another kind is a FormatError naming both (`loadModel` takes any kind).
   */
  static load<M extends ModelBase<BaseConfig, string, string, string>>(this: ModelClass<M>, bytes: Uint8Array | ArrayBuffer): M {
    return loadModelFile(bytes, [this]);
  }

  /** One safetensors file: the weights under PyTorch's names and the config; see SaveOptions. */
  save(options?: SaveOptions): Uint8Array<ArrayBuffer> {
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

  /** A Keras-like table of the model's torch.nn modules (PyTorch's names), their output shapes
   *  and parameter counts, with totals. */
  summary(): string {
    this.alive();
    const parts = this.summaryParts();
    const first = parts[0];
    return formatSummary(`${this.constructor.name} (${this.kind})`, 'layer' in first ? first.layer.inShape : first.inShape, parts);
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
    this.store.dispose();
    this.generator?.dispose();
  }

  // ---- Trainable ----

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    this.staging.reserve(rows);
    this.perRow = this.arena.alloc(rows);
    this.allocBuffers(rows);
    this.capacity = rows;
  }

  /** Copies rows of data into the staging buffer, normalized unless `inputs` is false (codes). */
  stage(data: Rows, order: Int32Array | null, start: number, rows: number, inputs = true): Tensor {
    this.alive(); // a batch callback may have disposed the model during fit
    const xb = this.staging.stage(data, order, start, rows);
    if (inputs) this.prepareBatch(xb, rows);
    return xb;
  }

  /**
   * One optimisation step. A non-finite loss, or non-finite gradients with clipValue, throw
   * TrainingError before any weight changes; an update that would leave a weight non-finite is
   * undone (the weights stay bit for bit those before the step) and throws TrainingError.
   * clipValue > 0 clamps every gradient value to [−clipValue, clipValue] first.
   */
  trainStep(x: Tensor, rows: number, clipValue = 0): number {
    this.alive();
    const loss = this.computeGradients(x, rows);
    const step = this.optimizer.step + 1;
    const last = `at step ${step}; the weights are those of the last good step`;
    if (!Number.isFinite(loss)) throw new TrainingError(`the loss became ${loss} ${last}`);
    // clamping would turn ±Infinity into finite values: the clamp counts those, and the step is
    // refused (the gradients are scratch, the weights are untouched)
    if (clipValue > 0 && this.k.clamp(this.store.grads, -clipValue, clipValue) > 0) {
      throw new TrainingError(`the gradients became non-finite ${last}`);
    }
    const refused = this.optimizer.apply();
    if (refused) throw new TrainingError(`${refused} ${last}`);
    return loss;
  }

  /** The loss on `rows` staged rows, the first of which is row `firstRow` of its data set. */
  evalStep(x: Tensor, rows: number, firstRow = 0): number {
    return this.computeLoss(x, rows, firstRow);
  }

  /** BCE targets must be in [0, 1] as the model sees them: normalized by `normalizer` (the one
   *  fit is about to set) or the model's own. */
  checkTargets(data: Rows, what: string, normalizer: Normalizer | null = this.norm): void {
    if (this.config.loss === 'bce') checkUnitTargets(data, what, normalizer);
  }

  /**
   * Mean loss and metrics over every row of data, `chunk` rows at a time through the staging
   * buffer (default: as many as it holds, at least 256). The chunking does not change the result
   * beyond the rounding of the sums (the VAE's noise is a function of the row, not the chunk).
   */
  evaluateRows(data: Rows, chunk?: number, firstRow = 0): { loss: number } & Record<string, number> {
    const names = [...this.metricNames, ...this.evaluationOnly];
    const sums = new Float64Array(names.length);
    let loss = 0;
    this.chunks(data, (xb, rows, start) => {
      loss += this.evalStep(xb, rows, firstRow + start) * rows;
      for (let m = 0; m < names.length; m++) sums[m] += this.lastMetrics[names[m]] * rows;
    }, true, chunk);
    const out: { loss: number } & Record<string, number> = { loss: loss / data.rows };
    names.forEach((m, i) => (out[m] = sums[i] / data.rows));
    return out;
  }

  // ---- what a model supplies ----

  /** The model's networks in forward order, for summary(). */
  protected abstract summaryParts(): SummaryPart[];
  /** The layers inference runs through: x → code (encode), then code → output (decode). */
  protected abstract inferenceLayers(): InferenceLayers;
  /** The network that maps codes to outputs (decode). */
  protected abstract get decoderNet(): Sequential;
  /** Inference: the reconstruction of `rows` staged rows. */
  protected abstract reconstructRows(x: Tensor, rows: number): Tensor;
  /** Training forward + backward on `rows` staged rows: fills every gradient, records the
   *  metrics, returns the batch's loss. Must not change any weight. */
  protected abstract computeGradients(x: Tensor, rows: number): number;
  /** The loss without training (validation, evaluate) of rows firstRow.. of a data set; records
   *  the metrics (those of evaluate too). */
  protected abstract computeLoss(x: Tensor, rows: number, firstRow: number): number;
  /** Layers' and the model's own buffers for batches of `rows` rows. */
  protected abstract allocBuffers(rows: number): void;
  protected abstract releaseModelBuffers(): void;
  /** Frees the layers' buffers and the model's own state (not the parameters: the store's). */
  protected abstract disposeLayers(): void;

  /** Per-row scores of `rows` staged (normalized) rows, the first being row `firstRow` of the
   *  data set, into perRow. The VAE adds 'negElbo'. */
  protected scoreRows(x: Tensor, rows: number, metric: ScoreMetric, _firstRow: number): Tensor {
    const y = this.reconstructRows(x, rows);
    if (metric === 'mse') this.k.rowMse(y, x, this.perRow!, rows, this.inputSize);
    else rowErrors(metric as 'mae' | 'euclidean', this.arena.f32(y), this.arena.f32(x), this.arena.f32(this.perRow!), rows, this.inputSize);
    return this.perRow!;
  }

  // ---- shared internals ----

  /**
   * Stages data chunk by chunk (`chunk` rows, default as many as the buffers hold, at least
   * INFER_ROWS), normalized when `inputs`, and calls fn on each with the index of its first row.
   */
  protected chunks(data: Rows, fn: (xb: Tensor, rows: number, start: number) => void, inputs = true, chunk?: number): void {
    const size = Math.min(data.rows, chunk ?? Math.max(this.capacity, INFER_ROWS));
    this.reserve(size);
    for (let start = 0; start < data.rows; start += size) {
      const rows = Math.min(size, data.rows - start);
      fn(this.stage(data, null, start, rows, inputs), rows, start);
    }
  }

  /** Runs `run` on every chunk and copies `outWidth` values per row of its result out. */
  protected map(data: Rows, outWidth: number, run: (xb: Tensor, rows: number, start: number) => Tensor, inputs = true): Float32Array {
    const out = new Float32Array(data.rows * outWidth);
    this.chunks(data, (xb, rows, start) => {
      out.set(this.arena.f32(run(xb, rows, start)).subarray(0, rows * outWidth), start * outWidth);
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
    this.staging.release();
    if (this.perRow) this.arena.release(this.perRow);
    this.perRow = null;
    this.releaseModelBuffers();
    this.capacity = 0;
  }
}
