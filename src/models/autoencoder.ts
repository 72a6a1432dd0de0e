import { DisposedError, InputError, ShapeError, TrainingError } from '../errors.js';
import { checkInt, toRows, type Matrix, type Rows } from '../data.js';
import { arena as sharedArena } from '../runtime/context.js';
import { ACTIVATIONS, Kernels, type ActivationName, type LossKind } from '../runtime/kernels.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import { Rng, checkSeed } from '../runtime/rng.js';
import { checkInit, type InitName } from '../nn/init.js';
import { Sequential, type DenseSpec, type LayerSpec, type Param } from '../nn/layers.js';
import { loadSafetensorsInto, saveModel, type SaveOptions } from '../io/model-file.js';
import { Optimizer, resolveOptimizer, type OptimizerConfig, type OptimizerName, type ResolvedOptimizer } from '../nn/optimizers.js';
import { fit, stage, type FitOptions, type History, type Trainable } from '../train/fit.js';

/** An activation by name, or with its parameter (leakyRelu slope, elu alpha). */
export type Activation = ActivationName | { type: ActivationName; alpha: number };
export type LossName = 'bce' | 'mse' | 'l1';

export interface AutoencoderConfig {
  inputSize: number;
  /** Widths of the encoder's hidden layers, outermost first. Default []. */
  hidden?: number[];
  latentSize: number;
  /** Widths of the decoder's hidden layers; default `hidden` reversed. */
  decoderHidden?: number[];
  /** Hidden layers' activation. Default 'relu'. */
  activation?: Activation;
  /** The code layer's activation. Default 'linear'. */
  latentActivation?: Activation;
  /** Default 'sigmoid' (inputs in [0, 1]). */
  outputActivation?: Activation;
  /** Default 'bce' with a sigmoid output (computed from the logits), else 'mse'. */
  loss?: LossName;
  /** Default Adam with learning rate 1e-3. */
  optimizer?: OptimizerConfig | OptimizerName;
  /** Seeds init, shuffling and noise. Default 0. */
  seed?: number;
  /** Default 'glorotUniform'. */
  init?: InitName;
  /** The architecture as data, instead of hidden/activation options: what `config` holds. */
  layers?: { encoder: LayerSpec[]; decoder: LayerSpec[] };
}

/** The config with every default filled in: JSON, enough to rebuild the model. */
export interface ResolvedAutoencoderConfig {
  inputSize: number;
  latentSize: number;
  layers: { encoder: LayerSpec[]; decoder: LayerSpec[] };
  loss: LossName;
  optimizer: ResolvedOptimizer;
  seed: number;
  init: InitName;
}

/** Rows processed per call of the layers during inference. */
const INFER_ROWS = 256;

/**
 * A dense autoencoder: an encoder and a decoder Sequential, trained to reconstruct its input.
 * All buffers live in linear memory and are reused, so a training step allocates nothing.
 */
export class Autoencoder implements Trainable {
  readonly kind: string = 'autoencoder';
  readonly config: ResolvedAutoencoderConfig;
  readonly arena: Arena;
  readonly rng: Rng;
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  readonly optimizer: Optimizer;
  private readonly k: Kernels;
  private readonly lossKind: LossKind;
  private capacity = 0;
  private grad: Tensor | null = null;
  private staging: Tensor | null = null;
  private perRow: Tensor | null = null;
  private disposed = false;
  private training = false;

  constructor(config: AutoencoderConfig) {
    this.config = resolveConfig(config);
    const c = this.config;
    this.arena = sharedArena();
    this.k = new Kernels(this.arena);
    this.lossKind = c.loss === 'bce' ? 'bceLogits' : c.loss;
    this.rng = new Rng(this.arena, c.seed);
    this.encoder = new Sequential(this.k, [c.inputSize], c.layers.encoder, 'encoder', false);
    this.decoder = new Sequential(this.k, [c.latentSize], c.layers.decoder, 'decoder', true);
    this.encoder.init(this.rng, c.init);
    this.decoder.init(this.rng, c.init);
    this.optimizer = new Optimizer(this.k, this.params(), c.optimizer as unknown as OptimizerConfig);
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

  /** Codes, rows × latentSize. */
  encode(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, this.latentSize, (xb, rows) => this.encoder.forward(xb, rows));
  }

  /** Decoded rows (rows × inputSize) from codes z (rows × latentSize). */
  decode(z: Matrix): Float32Array {
    this.alive();
    const data = toRows(z, this.latentSize, 'z');
    return this.map(data, this.inputSize, (zb, rows) => this.decoder.forward(zb, rows));
  }

  /** decode(encode(x)), rows × inputSize. */
  reconstruct(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, this.inputSize, (xb, rows) => this.forward(xb, rows));
  }

  /** Per-row anomaly score: the mean squared error of each row's reconstruction. */
  reconstructionError(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, 1, (xb, rows) => {
      const y = this.forward(xb, rows);
      this.k.rowMse(y, xb, this.perRow!, rows, this.inputSize);
      return this.perRow!;
    });
  }

  /** Mean loss (the training objective, per value) and mean squared error per value. */
  evaluate(x: Matrix): { loss: number; mse: number } {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    let loss = 0;
    let se = 0;
    this.chunks(data, (xb, rows) => {
      loss += this.evalStep(xb, rows) * rows;
      se += this.k.loss('mse', this.decoder.last.output, xb, null, rows * this.inputSize, 0);
    });
    return { loss: loss / data.rows, mse: se / (data.rows * this.inputSize) };
  }

  /** One safetensors file: the weights under PyTorch's names and the config; see SaveOptions. */
  save(options?: SaveOptions): Uint8Array {
    this.alive();
    return saveModel(this, options);
  }

  /** A model built from `config` with the weights of a safetensors file that has no
   *  latent-wasm metadata (saved from PyTorch): names and shapes must match the architecture. */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer, config: AutoencoderConfig): Autoencoder {
    return loadSafetensorsInto(new Autoencoder(config), bytes as Uint8Array);
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
    this.optimizer.dispose();
    this.encoder.dispose();
    this.decoder.dispose();
    this.rng.dispose();
  }

  // ---- Trainable ----

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    this.encoder.reserve(rows);
    this.decoder.reserve(rows);
    this.grad = this.arena.alloc(rows * this.inputSize);
    this.staging = this.arena.alloc(rows * Math.max(this.inputSize, this.latentSize));
    this.perRow = this.arena.alloc(rows);
    this.capacity = rows;
  }

  trainStep(x: Tensor, rows: number): number {
    this.alive();
    this.forward(x, rows);
    const n = rows * this.inputSize;
    const loss = this.lossOf(x, rows, this.grad) / n;
    const step = this.optimizer.step + 1;
    if (!Number.isFinite(loss)) {
      throw new TrainingError(`the loss became ${loss} at step ${step}; the weights are those of the last good step`);
    }
    const g = this.decoder.backward(this.grad!, rows, this.lossKind === 'bceLogits');
    this.encoder.backward(g!, rows);
    const norm = this.optimizer.apply();
    if (!Number.isFinite(norm)) {
      throw new TrainingError(`the gradients became ${norm} at step ${step}; the weights are those of the last good step`);
    }
    return loss;
  }

  evalStep(x: Tensor, rows: number): number {
    this.forward(x, rows);
    return this.lossOf(x, rows, null) / (rows * this.inputSize);
  }

  // ---- internals ----

  /** Every trainable tensor with its PyTorch name, encoder first. */
  params(): Param[] {
    return [...this.encoder.params(), ...this.decoder.params()];
  }

  private forward(x: Tensor, rows: number): Tensor {
    return this.decoder.forward(this.encoder.forward(x, rows), rows);
  }

  /** The loss summed over the batch (and its gradient, scaled for the mean, when grad is given). */
  private lossOf(target: Tensor, rows: number, grad: Tensor | null): number {
    const n = rows * this.inputSize;
    const last = this.decoder.last;
    const pred = this.lossKind === 'bceLogits' ? last.preActivation : last.output;
    return this.k.loss(this.lossKind, pred, target, grad, n, 1 / n);
  }

  /** Stages x into linear memory chunk by chunk and calls fn on each. */
  private chunks(data: Rows, fn: (xb: Tensor, rows: number, start: number) => void): void {
    const chunk = Math.min(data.rows, Math.max(this.capacity, INFER_ROWS));
    this.reserve(chunk);
    for (let start = 0; start < data.rows; start += chunk) {
      const rows = Math.min(chunk, data.rows - start);
      stage(this.arena, this.staging!, data, null, start, rows);
      fn(this.staging!, rows, start);
    }
  }

  /** Runs `run` on every chunk and copies `outWidth` values per row of its result out. */
  private map(data: Rows, outWidth: number, run: (xb: Tensor, rows: number) => Tensor): Float32Array {
    const out = new Float32Array(data.rows * outWidth);
    this.chunks(data, (xb, rows, start) => {
      out.set(this.arena.f32(run(xb, rows)).subarray(0, rows * outWidth), start * outWidth);
    });
    return out;
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('this Autoencoder was disposed');
  }

  private releaseBuffers(): void {
    for (const t of [this.grad, this.staging, this.perRow]) if (t) this.arena.release(t);
    this.grad = this.staging = this.perRow = null;
    this.capacity = 0;
  }
}

const LOSSES: readonly LossName[] = ['bce', 'mse', 'l1'];

function activationSpec(a: unknown, what: string): { activation: ActivationName; alpha?: number } {
  const name = typeof a === 'object' && a !== null ? (a as { type: unknown }).type : a;
  if (typeof name !== 'string' || !(name in ACTIVATIONS)) {
    throw new InputError(`${what} must be one of ${Object.keys(ACTIVATIONS).join(', ')}; got ${JSON.stringify(name)}`);
  }
  if (typeof a === 'object' && a !== null) {
    const alpha = (a as { alpha: unknown }).alpha;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new InputError(`${what}.alpha must be a finite number; got ${String(alpha)}`);
    return { activation: name as ActivationName, alpha };
  }
  return { activation: name as ActivationName };
}

function widths(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new InputError(`${what} must be an array of layer widths; got ${String(v)}`);
  return v.map((u, i) => checkInt(u, `${what}[${i}]`, 1));
}

function resolveConfig(config: AutoencoderConfig): ResolvedAutoencoderConfig {
  if (typeof config !== 'object' || config === null) throw new InputError('the Autoencoder config must be an object');
  const inputSize = checkInt(config.inputSize, 'inputSize', 1);
  const latentSize = checkInt(config.latentSize, 'latentSize', 1);
  const output = activationSpec(config.outputActivation ?? 'sigmoid', 'outputActivation');
  let layers: ResolvedAutoencoderConfig['layers'];
  if (config.layers !== undefined) {
    layers = checkLayers(config.layers, inputSize, latentSize);
  } else {
    const hidden = widths(config.hidden ?? [], 'hidden');
    const decoderHidden = widths(config.decoderHidden ?? [...hidden].reverse(), 'decoderHidden');
    const act = activationSpec(config.activation ?? 'relu', 'activation');
    const latent = activationSpec(config.latentActivation ?? 'linear', 'latentActivation');
    const dense = (units: number, a: { activation: ActivationName; alpha?: number }): DenseSpec => ({ type: 'dense', units, ...a });
    layers = {
      encoder: [...hidden.map((u) => dense(u, act)), dense(latentSize, latent)],
      decoder: [...decoderHidden.map((u) => dense(u, act)), dense(inputSize, output)],
    };
  }
  const last = layers.decoder[layers.decoder.length - 1] as DenseSpec;
  const outputActivation = last.activation;
  const loss = config.loss ?? (outputActivation === 'sigmoid' ? 'bce' : 'mse');
  if (!LOSSES.includes(loss)) throw new InputError(`loss must be one of ${LOSSES.join(', ')}; got ${JSON.stringify(loss)}`);
  if (loss === 'bce' && outputActivation !== 'sigmoid') {
    throw new InputError(`loss 'bce' needs outputActivation 'sigmoid' (it is computed from the logits); got '${outputActivation}'`);
  }
  const seed = config.seed ?? 0;
  checkSeed(seed);
  const init = config.init ?? 'glorotUniform';
  checkInit(init);
  return { inputSize, latentSize, layers, loss, optimizer: resolveOptimizer(config.optimizer), seed, init };
}

/** Validates a dense layers description: widths chain from inputSize to latentSize and back. */
function checkLayers(layers: unknown, inputSize: number, latentSize: number): ResolvedAutoencoderConfig['layers'] {
  const l = layers as { encoder?: unknown; decoder?: unknown };
  if (typeof l !== 'object' || l === null || !Array.isArray(l.encoder) || !Array.isArray(l.decoder)) {
    throw new InputError('layers must be { encoder: LayerSpec[], decoder: LayerSpec[] }');
  }
  const check = (specs: unknown[], part: string, outWidth: number): DenseSpec[] => {
    if (specs.length === 0) throw new InputError(`layers.${part} is empty; expected at least one layer`);
    const out = specs.map((spec, i) => {
      const sp = spec as DenseSpec;
      if (typeof sp !== 'object' || sp === null || sp.type !== 'dense') {
        throw new InputError(`layers.${part}[${i}].type must be 'dense'; got ${JSON.stringify((sp as { type?: unknown })?.type)}`);
      }
      const units = checkInt(sp.units, `layers.${part}[${i}].units`, 1);
      return { type: 'dense' as const, units, ...activationSpec(sp.alpha === undefined ? sp.activation : { type: sp.activation, alpha: sp.alpha }, `layers.${part}[${i}].activation`) };
    });
    if (out[out.length - 1].units !== outWidth) {
      throw new ShapeError(`layers.${part} must end with ${outWidth} units (${part === 'encoder' ? 'latentSize' : 'inputSize'}); got ${out[out.length - 1].units}`);
    }
    return out;
  };
  return { encoder: check(l.encoder, 'encoder', latentSize), decoder: check(l.decoder, 'decoder', inputSize) };
}
