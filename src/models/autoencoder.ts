import { InputError, ShapeError } from '../errors.js';
import { checkInt, checkKeys, checkNumber, describe, toRows, type Matrix } from '../data.js';
import type { LossKind } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import { checkSeed } from '../runtime/rng.js';
import { checkInit, type InitName } from '../nn/init.js';
import { Sequential, type LayerSpec, type Param } from '../nn/layers.js';
import type { SummaryPart } from './summary.js';
import { resolveOptimizer, type OptimizerConfig, type OptimizerName, type ResolvedOptimizer } from '../nn/optimizers.js';
import type { FitOptions, History } from '../train/fit.js';
import { ModelBase } from './base.js';
import type { InferenceLayers } from './quantized.js';
import type { NormalizeKind, NormalizeOption } from './normalizer.js';
import {
  activationSpec, checkLayers, checkLayersObject, dense, lastActivation, lastDense, resolveLoss, widths,
  type Activation, type LayersDescription, type LossName,
} from './spec.js';

export type { Activation, LossName, LayersDescription };

/** Input corruption of a denoising autoencoder, applied to every training batch in the core. */
export type NoiseConfig =
  /** x + N(0, std²), clipped to `clip` (default [0, 1] with a sigmoid output, else none). */
  | { type: 'gaussian'; std: number; clip?: [number, number] | null }
  /** Each value zeroed with probability p. */
  | { type: 'mask'; p: number }
  /** Each value set to `low` or `high` (default 0 and 1) with probability p/2 each. */
  | { type: 'saltPepper'; p: number; low?: number; high?: number };
export type ResolvedNoise =
  | { type: 'gaussian'; std: number; clip: [number, number] | null }
  | { type: 'mask'; p: number }
  | { type: 'saltPepper'; p: number; low: number; high: number };

/** A sparsity penalty on the code: λ·mean|z| (l1), or β·Σ_j KL(ρ ‖ ρ̂_j) on a sigmoid code (kl). */
export type SparsityConfig = { l1: number } | { kl: { target: number; weight: number } };

export interface AutoencoderConfig {
  /** Values per sample. Optional when `inputShape` is given. */
  inputSize?: number;
  /** Per-sample shape for layers that need one (conv: [channels, height, width]); rows are
   *  samples flattened. Default [inputSize]. */
  inputShape?: number[];
  /** Widths of the encoder's hidden layers, outermost first. Default []. */
  hidden?: number[];
  /** The code width; optional when `layers` is given (its encoder's last layer). */
  latentSize?: number;
  /** Widths of the decoder's hidden layers; default `hidden` reversed. */
  decoderHidden?: number[];
  /** Hidden layers' activation. Default 'relu'. */
  activation?: Activation;
  /** The code layer's activation. Default 'linear'. */
  latentActivation?: Activation;
  /** Default 'sigmoid' (inputs in [0, 1]). */
  outputActivation?: Activation;
  /** The architecture as data, instead of hidden/latentSize/activations: any layer specs; the
   *  encoder ends with the code layer (dense), the decoder gives back inputSize values. */
  layers?: LayersDescription;
  /** Default 'bce' with a sigmoid output (computed from the logits), else 'mse'. */
  loss?: LossName;
  /** Default Adam with learning rate 1e-3. */
  optimizer?: OptimizerConfig | OptimizerName;
  /** Seeds init, shuffling, noise and dropout. Default 0. */
  seed?: number;
  /** Default 'glorotUniform'. */
  init?: InitName;
  /** Denoising: corrupt each training batch (the target stays clean). */
  noise?: NoiseConfig;
  /** Sparse: a penalty on the code added to the loss (reported as `penalty`). */
  sparsity?: SparsityConfig;
  /** Per-feature normalization inside the model (fitted at the first fit). Default 'none'. */
  normalize?: NormalizeOption;
}

/** The config with every default filled in: JSON, enough to rebuild the model. */
export interface ResolvedAutoencoderConfig {
  inputSize: number;
  inputShape: number[];
  latentSize: number;
  layers: LayersDescription;
  loss: LossName;
  optimizer: ResolvedOptimizer;
  seed: number;
  init: InitName;
  noise?: ResolvedNoise;
  sparsity?: SparsityConfig;
  normalize?: NormalizeKind;
}

/**
 * An autoencoder: an encoder and a decoder Sequential (dense by default; any layers description,
 * conv included, with `inputShape`), trained to reconstruct its input;
 * optionally denoising (`noise`) and sparse (`sparsity`). All buffers live in linear memory and
 * are reused, so a training step allocates nothing. evaluate(x) reports the mean loss (the
 * training objective per value, penalty included) and mse, the mean squared error per value; a
 * sparse model also reports `reconstruction` and `penalty` (loss = their sum).
 */
export class Autoencoder extends ModelBase<ResolvedAutoencoderConfig, never, 'reconstruction' | 'penalty', 'mse'> {
  static readonly kind: string = 'autoencoder';
  readonly metricNames: readonly ('reconstruction' | 'penalty')[];
  protected override readonly evaluationOnly = ['mse'] as const;
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  private readonly lossKind: LossKind;
  private grad: Tensor | null = null;
  /** The corrupted batch (denoising). */
  private noisy: Tensor | null = null;
  /** Column sums and per-unit gradients of the KL sparsity penalty. */
  private colSum: Tensor | null = null;
  private colGrad: Tensor | null = null;

  constructor(config: AutoencoderConfig) {
    super(resolveAutoencoderConfig(config, new.target.name), config.normalize);
    const c = this.config;
    this.lossKind = c.loss === 'bce' ? 'bceLogits' : c.loss;
    this.metricNames = c.sparsity ? ['reconstruction', 'penalty'] : [];
    this.encoder = new Sequential(this.k, c.inputShape, c.layers.encoder, 'encoder', false, this.store);
    this.decoder = new Sequential(this.k, [c.latentSize], c.layers.decoder, 'decoder', true, this.store);
    if (this.decoder.outSize !== c.inputSize) {
      const out = this.decoder.last.outShape;
      throw new ShapeError(`layers.decoder must end with ${c.inputSize} values per sample ([${c.inputShape.join(', ')}]); it gives [${out.join(', ')}]`);
    }
    this.ready([this.encoder, this.decoder]);
  }

  /** Codes, rows × latentSize. */
  encode(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, this.latentSize, (xb, rows) => this.encoder.forward(xb, rows, false));
  }

  params(): Param[] {
    return [...this.encoder.params(), ...this.decoder.params()];
  }

  // ---- ModelBase ----

  protected summaryParts(): SummaryPart[] {
    return [this.encoder, this.decoder];
  }

  protected get decoderNet(): Sequential {
    return this.decoder;
  }

  protected inferenceLayers(): InferenceLayers {
    return { encoder: this.encoder.layers, decoder: this.decoder.layers };
  }

  protected reconstructRows(x: Tensor, rows: number): Tensor {
    return this.decoder.forward(this.encoder.forward(x, rows, false), rows, false);
  }

  protected computeGradients(x: Tensor, rows: number): number {
    const input = this.config.noise ? this.corrupt(x, rows) : x;
    const z = this.encoder.forward(input, rows, true);
    this.decoder.forward(z, rows, true);
    const n = rows * this.inputSize;
    const rec = this.lossOf(x, rows, this.grad) / n;
    const g = this.decoder.backward(this.grad!, rows, this.lossKind === 'bceLogits')!;
    const pen = this.penalty(z, rows, g);
    this.encoder.backward(g, rows);
    this.lastMetrics.reconstruction = rec;
    this.lastMetrics.penalty = pen;
    return rec + pen;
  }

  protected computeLoss(x: Tensor, rows: number): number {
    const z = this.encoder.forward(x, rows, false);
    this.decoder.forward(z, rows, false);
    const n = rows * this.inputSize;
    const rec = this.lossOf(x, rows, null) / n;
    const pen = this.penalty(z, rows, null);
    this.lastMetrics.reconstruction = rec;
    this.lastMetrics.penalty = pen;
    this.lastMetrics.mse = this.lossKind === 'mse' ? rec : this.k.loss('mse', this.decoder.last, x, null, rows, this.inputSize, 0) / n;
    return rec + pen;
  }

  protected allocBuffers(rows: number): void {
    const a = this.arena;
    this.encoder.reserve(rows);
    this.decoder.reserve(rows);
    this.grad = a.alloc(rows * this.inputSize);
    if (this.config.noise) this.noisy = a.alloc(rows * this.inputSize);
    if (this.config.sparsity && 'kl' in this.config.sparsity) {
      this.colSum = a.alloc(this.latentSize);
      this.colGrad = a.alloc(this.latentSize);
    }
  }

  protected releaseModelBuffers(): void {
    for (const t of [this.grad, this.noisy, this.colSum, this.colGrad]) if (t) this.arena.release(t);
    this.grad = this.noisy = this.colSum = this.colGrad = null;
  }

  protected disposeLayers(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }

  // ---- internals ----

  /** The loss summed over the batch (and its gradient, scaled for the mean, when grad is given). */
  private lossOf(target: Tensor, rows: number, grad: Tensor | null): number {
    return this.k.loss(this.lossKind, this.decoder.last, target, grad, rows, this.inputSize, 1 / (rows * this.inputSize));
  }

  /** The corrupted copy of a batch, drawn from the model's generator in the core. */
  private corrupt(x: Tensor, rows: number): Tensor {
    const n = rows * this.inputSize;
    const noise = this.config.noise!;
    const out = this.noisy!;
    if (noise.type === 'gaussian') {
      const [lo, hi] = noise.clip ?? [-Infinity, Infinity];
      this.k.corruptGaussian(this.rng, x, out, n, noise.std, lo, hi);
    } else if (noise.type === 'mask') {
      this.k.corruptMask(this.rng, x, out, n, noise.p);
    } else {
      this.k.corruptSaltPepper(this.rng, x, out, n, noise.p, noise.low, noise.high);
    }
    return out;
  }

  /** The sparsity penalty of codes z (0 without sparsity); with g, its gradient is added to g. */
  private penalty(z: Tensor, rows: number, g: Tensor | null): number {
    const s = this.config.sparsity;
    if (!s) return 0;
    const L = this.latentSize;
    if ('l1' in s) {
      const scale = s.l1 / (rows * L);
      return this.k.penaltyL1(z, g, rows * L, scale) * scale;
    }
    this.k.colSum(z, this.colSum!, rows, L);
    const p = this.k.penaltyKlSparsity(this.colSum!, g ? this.colGrad : null, L, rows, s.kl.target, s.kl.weight);
    if (g) this.k.biasAdd(g, this.colGrad!, rows, L);
    return p;
  }
}

/** A denoising autoencoder (Vincent et al., 2008): an Autoencoder that requires `noise`. */
export class DenoisingAutoencoder extends Autoencoder {
  static override readonly kind: string = 'denoisingAutoencoder';
  constructor(config: AutoencoderConfig & { noise: NoiseConfig }) {
    if (typeof config !== 'object' || config === null || config.noise === undefined) {
      throw new InputError("DenoisingAutoencoder needs noise: { type: 'gaussian', std } | { type: 'mask', p } | { type: 'saltPepper', p }");
    }
    super(config);
  }

  /** The clean reconstruction of (noisy) rows x: the same as reconstruct(x). */
  denoise(x: Matrix): Float32Array {
    return this.reconstruct(x);
  }
}

/** A sparse autoencoder: an Autoencoder that requires `sparsity`. */
export class SparseAutoencoder extends Autoencoder {
  static override readonly kind: string = 'sparseAutoencoder';
  constructor(config: AutoencoderConfig & { sparsity: SparsityConfig }) {
    if (typeof config !== 'object' || config === null || config.sparsity === undefined) {
      throw new InputError('SparseAutoencoder needs sparsity: { l1: λ } or { kl: { target, weight } }');
    }
    super(config);
  }

  /** As Autoencoder.fit; a sparse model always reports reconstruction and penalty. */
  override fit(x: Matrix, options?: FitOptions): Promise<History<'reconstruction' | 'penalty'>> {
    return super.fit(x, options) as Promise<History<'reconstruction' | 'penalty'>>;
  }
}

/** The keys of each kind of noise. */
const NOISE_KEYS = { gaussian: ['type', 'std', 'clip'], mask: ['type', 'p'], saltPepper: ['type', 'p', 'low', 'high'] };

export function resolveNoise(v: unknown, outputActivation: string): ResolvedNoise {
  if (typeof v !== 'object' || v === null) throw new InputError(`noise must be an object with a type; got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  if (typeof o.type === 'string' && Object.hasOwn(NOISE_KEYS, o.type)) checkKeys(o, NOISE_KEYS[o.type as ResolvedNoise['type']], 'noise');
  const probability = (p: unknown) => checkNumber(p, 'noise.p', 0, 1);
  switch (o.type) {
    case 'gaussian': {
      const std = checkNumber(o.std, 'noise.std', 0);
      let clip: [number, number] | null = outputActivation === 'sigmoid' ? [0, 1] : null;
      if (o.clip !== undefined) {
        if (o.clip !== null && !(Array.isArray(o.clip) && o.clip.length === 2 && o.clip[0] < o.clip[1])) {
          throw new InputError(`noise.clip must be [low, high] with low < high, or null; got ${JSON.stringify(o.clip)}`);
        }
        clip = o.clip === null ? null : [checkNumber(o.clip[0], 'noise.clip[0]'), checkNumber(o.clip[1], 'noise.clip[1]')];
      }
      return { type: 'gaussian', std, clip };
    }
    case 'mask':
      return { type: 'mask', p: probability(o.p) };
    case 'saltPepper':
      return { type: 'saltPepper', p: probability(o.p), low: checkNumber(o.low ?? 0, 'noise.low'), high: checkNumber(o.high ?? 1, 'noise.high') };
    default:
      throw new InputError(`noise.type must be one of gaussian, mask, saltPepper; got ${JSON.stringify(o.type)}`);
  }
}

export function resolveSparsity(v: unknown, codeActivation: string): SparsityConfig {
  if (typeof v === 'object' && v !== null && Object.hasOwn(v, 'l1') && !Object.hasOwn(v, 'kl')) {
    checkKeys(v, ['l1'], 'sparsity');
    return { l1: checkNumber((v as { l1: unknown }).l1, 'sparsity.l1', 0) };
  }
  if (typeof v === 'object' && v !== null && Object.hasOwn(v, 'kl') && !Object.hasOwn(v, 'l1')) {
    checkKeys(v, ['kl'], 'sparsity');
    const kl = (v as { kl: unknown }).kl as Record<string, unknown> | null;
    if (typeof kl !== 'object' || kl === null) throw new InputError('sparsity.kl must be { target, weight }');
    checkKeys(kl, ['target', 'weight'], 'sparsity.kl');
    const target = checkNumber(kl.target, 'sparsity.kl.target', 0, 1);
    if (target === 0 || target === 1) throw new InputError(`sparsity.kl.target must be strictly between 0 and 1; got ${target}`);
    const weight = checkNumber(kl.weight, 'sparsity.kl.weight', 0);
    if (codeActivation !== 'sigmoid') {
      throw new InputError(`sparsity.kl needs a sigmoid code (latentActivation 'sigmoid'); got '${codeActivation}'`);
    }
    return { kl: { target, weight } };
  }
  throw new InputError(`sparsity must be { l1: λ } or { kl: { target, weight } }; got ${JSON.stringify(v)}`);
}

/** Every key of AutoencoderConfig (typed: none missing, none extra). */
const CONFIG_KEYS: { [K in keyof AutoencoderConfig]-?: true } = {
  inputSize: true, inputShape: true, hidden: true, latentSize: true, decoderHidden: true, activation: true, latentActivation: true,
  outputActivation: true, layers: true, loss: true, optimizer: true, seed: true, init: true, noise: true, sparsity: true, normalize: true,
};

function resolveAutoencoderConfig(config: AutoencoderConfig, what: string): ResolvedAutoencoderConfig {
  if (typeof config !== 'object' || config === null) throw new InputError(`the ${what} config must be an object; got ${describe(config)}`);
  checkKeys(config, Object.keys(CONFIG_KEYS), `${what} config`);
  let inputShape: number[];
  if (config.inputShape !== undefined) {
    if (!Array.isArray(config.inputShape) || config.inputShape.length === 0) {
      throw new InputError(`inputShape must be a non-empty array of sizes; got ${JSON.stringify(config.inputShape)}`);
    }
    inputShape = config.inputShape.map((d, i) => checkInt(d, `inputShape[${i}]`, 1));
  } else {
    inputShape = [checkInt(config.inputSize, 'inputSize', 1)];
  }
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  if (config.inputSize !== undefined && config.inputSize !== inputSize) {
    throw new InputError(`inputSize ${config.inputSize} disagrees with inputShape [${inputShape.join(', ')}] (${inputSize} values)`);
  }
  let layers: LayersDescription;
  if (config.layers !== undefined) {
    const l = checkLayersObject(config.layers, 'layers');
    const encoder = checkLayers(l.encoder, 'layers.encoder');
    const decoder = checkLayers(l.decoder, 'layers.decoder');
    if (decoder.length === 0) throw new InputError('layers.decoder is empty; expected at least the output layer');
    layers = { encoder, decoder };
  } else {
    checkInt(config.latentSize, 'latentSize', 1);
    const hidden = widths(config.hidden ?? [], 'hidden');
    const decoderHidden = widths(config.decoderHidden ?? [...hidden].reverse(), 'decoderHidden');
    const act = activationSpec(config.activation ?? 'relu', 'activation');
    const latent = activationSpec(config.latentActivation ?? 'linear', 'latentActivation');
    const output = activationSpec(config.outputActivation ?? 'sigmoid', 'outputActivation');
    layers = {
      encoder: [...hidden.map((u) => dense(u, act)), dense(config.latentSize as number, latent)],
      decoder: [...decoderHidden.map((u) => dense(u, act)), dense(inputSize, output)],
    };
  }
  const code = lastDense(layers.encoder, 'layers.encoder');
  const latentSize = code.units;
  if (config.latentSize !== undefined && config.latentSize !== latentSize) {
    throw new InputError(`latentSize ${config.latentSize} disagrees with the code layer of layers.encoder (${latentSize} units)`);
  }
  const outputActivation = lastActivation(layers.decoder);
  const loss = resolveLoss(config.loss, outputActivation);
  const seed = config.seed ?? 0;
  checkSeed(seed);
  const init = config.init ?? 'glorotUniform';
  checkInit(init);
  const resolved: ResolvedAutoencoderConfig = { inputSize, inputShape, latentSize, layers, loss, optimizer: resolveOptimizer(config.optimizer), seed, init };
  if (config.noise !== undefined) resolved.noise = resolveNoise(config.noise, outputActivation);
  if (config.sparsity !== undefined) resolved.sparsity = resolveSparsity(config.sparsity, code.activation);
  return resolved;
}

export type { LayerSpec };
