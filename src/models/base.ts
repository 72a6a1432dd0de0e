import { DisposedError, InputError, TrainingError } from '../errors.js';
import { toRows, type Matrix, type Rows } from '../data.js';
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
import { loadSafetensorsInto, saveModel, type SaveOptions } from '../io/model-file.js';

/** What every resolved model config holds. */
export interface BaseConfig {
  inputSize: number;
  latentSize: number;
  optimizer: ResolvedOptimizer;
  seed: number;
  init: InitName;
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
  /** A string tag naming the model class ('autoencoder', 'vae', ...). */
  abstract readonly kind: string;
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
  private readonly staging: Staging;
  private generator: Rng | null = null;
  private opt: Optimizer | null = null;
  private disposed = false;
  private training = false;

  constructor(config: C) {
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

  /** Trains on x (the target is x itself). See FitOptions. */
  async fit(x: Matrix, options?: FitOptions): Promise<History<M, O>> {
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
    return this.evaluateRows(toRows(x, this.inputSize, 'x')) as Evaluation<M, O, E>;
  }

  /** Decoded rows (rows × inputSize) from codes z (rows × latentSize). */
  decode(z: Matrix): Float32Array {
    this.alive();
    const data = toRows(z, this.latentSize, 'z');
    return this.map(data, this.inputSize, (zb, rows) => this.decoderNet.forward(zb, rows, false));
  }

  /** The model's deterministic reconstruction of x, rows × inputSize. */
  reconstruct(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, this.inputSize, (xb, rows) => this.reconstructRows(xb, rows));
  }

  /** Per-row anomaly score: the mean squared error of each row's reconstruction. */
  reconstructionError(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, 1, (xb, rows) => {
      const y = this.reconstructRows(xb, rows);
      this.k.rowMse(y, xb, this.perRow!, rows, this.inputSize);
      return this.perRow!;
    });
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

  stage(data: Rows, order: Int32Array | null, start: number, rows: number): Tensor {
    return this.staging.stage(data, order, start, rows);
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
    if (clipValue > 0) {
      const g = this.store.grads;
      // clamping would turn ±Infinity into finite values: refuse those first
      if (this.k.countNonFinite(g) > 0) throw new TrainingError(`the gradients became non-finite ${last}`);
      this.k.clamp(g, -clipValue, clipValue);
    }
    const refused = this.optimizer.apply();
    if (refused) throw new TrainingError(`${refused} ${last}`);
    return loss;
  }

  /** The loss on `rows` staged rows, the first of which is row `firstRow` of its data set. */
  evalStep(x: Tensor, rows: number, firstRow = 0): number {
    return this.computeLoss(x, rows, firstRow);
  }

  /**
   * Mean loss and metrics over every row of data, `chunk` rows at a time through the staging
   * buffer (default: as many as it holds, at least 256). The chunking does not change the result
   * beyond the rounding of the sums (the VAE's noise is a function of the row, not the chunk).
   */
  evaluateRows(data: Rows, chunk?: number): { loss: number } & Record<string, number> {
    const names = [...this.metricNames, ...this.evaluationOnly];
    const sums = new Float64Array(names.length);
    let loss = 0;
    this.chunks(data, (xb, rows, start) => {
      loss += this.evalStep(xb, rows, start) * rows;
      for (let m = 0; m < names.length; m++) sums[m] += this.lastMetrics[names[m]] * rows;
    }, chunk);
    const out: { loss: number } & Record<string, number> = { loss: loss / data.rows };
    names.forEach((m, i) => (out[m] = sums[i] / data.rows));
    return out;
  }

  // ---- what a model supplies ----

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

  // ---- shared internals ----

  /** Stages data chunk by chunk (`chunk` rows, default as many as the buffers hold, at least
   *  INFER_ROWS) and calls fn on each with the index of its first row. */
  protected chunks(data: Rows, fn: (xb: Tensor, rows: number, start: number) => void, chunk?: number): void {
    const size = Math.min(data.rows, chunk ?? Math.max(this.capacity, INFER_ROWS));
    this.reserve(size);
    for (let start = 0; start < data.rows; start += size) {
      const rows = Math.min(size, data.rows - start);
      fn(this.staging.stage(data, null, start, rows), rows, start);
    }
  }

  /** Runs `run` on every chunk and copies `outWidth` values per row of its result out. */
  protected map(data: Rows, outWidth: number, run: (xb: Tensor, rows: number) => Tensor): Float32Array {
    const out = new Float32Array(data.rows * outWidth);
    this.chunks(data, (xb, rows, start) => {
      out.set(this.arena.f32(run(xb, rows)).subarray(0, rows * outWidth), start * outWidth);
    });
    return out;
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
