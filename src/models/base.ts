import { DisposedError, InputError, TrainingError } from '../errors.js';
import { toRows, type Matrix, type Rows } from '../data.js';
import { arena as sharedArena } from '../runtime/context.js';
import { Kernels } from '../runtime/kernels.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import { Rng } from '../runtime/rng.js';
import type { Param, Sequential } from '../nn/layers.js';
import { quantizeModel, type InferenceLayers, type QuantizedModel, type QuantizeOptions } from './quantized.js';
import { Optimizer, type OptimizerConfig, type ResolvedOptimizer } from '../nn/optimizers.js';
import { fit, stage, type FitOptions, type History, type Trainable } from '../train/fit.js';
import { loadSafetensorsInto, saveModel, type SaveOptions } from '../io/model-file.js';

/** What every resolved model config holds. */
export interface BaseConfig {
  inputSize: number;
  latentSize: number;
  optimizer: ResolvedOptimizer;
  seed: number;
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
  private opt: Optimizer | null = null;
  private disposed = false;
  private training = false;

  constructor(config: C) {
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
   */
  quantize(options?: QuantizeOptions): QuantizedModel {
    this.alive();
    return quantizeModel(this.kind, this.inferenceLayers(), this.inputSize, this.latentSize, options);
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

  // ---- shared internals ----

  /** Stages x into linear memory chunk by chunk and calls fn on each. */
  protected chunks(data: Rows, fn: (xb: Tensor, rows: number, start: number) => void): void {
    const chunk = Math.min(data.rows, Math.max(this.capacity, INFER_ROWS));
    this.reserve(chunk);
    for (let start = 0; start < data.rows; start += chunk) {
      const rows = Math.min(chunk, data.rows - start);
      stage(this.arena, this.staging!, data, null, start, rows);
      fn(this.staging!, rows, start);
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
    for (const t of [this.staging, this.perRow]) if (t) this.arena.release(t);
    this.staging = this.perRow = null;
    this.releaseModelBuffers();
    this.capacity = 0;
  }
}
