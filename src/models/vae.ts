import { InputError } from '../errors.js';
import { checkInt, checkKeys, checkNumber, toRows, type Matrix } from '../data.js';
import type { LossKind } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import { Rng, checkSeed } from '../runtime/rng.js';
import { checkInit, type InitName } from '../nn/init.js';
import { Dense, Sequential, type Param } from '../nn/layers.js';
import type { SummaryPart } from './summary.js';
import { resolveOptimizer, type OptimizerConfig, type OptimizerName, type ResolvedOptimizer } from '../nn/optimizers.js';
import { ModelBase } from './base.js';
import type { InferenceLayers } from './quantized.js';
import type { NormalizeKind, NormalizeOption } from './normalizer.js';
import type { ScoreMetric } from './detector.js';
import { activationSpec, checkLayers, checkLayersObject, dense, lastDense, resolveLoss, widths, type Activation, type LayersDescription } from './spec.js';

export interface VAEConfig {
  inputSize: number;
  /** Widths of the encoder trunk's hidden layers (before the μ and log σ² heads). Default [400]. */
  hidden?: number[];
  latentSize: number;
  /** Widths of the decoder's hidden layers; default `hidden` reversed. */
  decoderHidden?: number[];
  /** Hidden layers' activation. Default 'relu'. */
  activation?: Activation;
  /** Default 'sigmoid'. */
  outputActivation?: Activation;
  /** The architecture as data: `encoder` is the trunk (the heads are implied by latentSize),
   *  `decoder` maps latentSize to inputSize and ends with a dense layer. */
  layers?: LayersDescription;
  /** Reconstruction term, summed over features: 'bce' (sigmoid output) or 'mse'. Default from the output. */
  loss?: 'bce' | 'mse';
  /** Weight of the KL term (β-VAE). Default 1. */
  beta?: number;
  /** KL warm-up: β rises linearly from 0 to `beta` over this many training steps. Default 0 (off). */
  klWarmupSteps?: number;
  optimizer?: OptimizerConfig | OptimizerName;
  seed?: number;
  init?: InitName;
  /** Per-feature normalization inside the model (fitted at the first fit). Default 'none'. */
  normalize?: NormalizeOption;
}

export interface ResolvedVAEConfig {
  inputSize: number;
  latentSize: number;
  layers: LayersDescription;
  loss: 'bce' | 'mse';
  beta: number;
  klWarmupSteps: number;
  optimizer: ResolvedOptimizer;
  seed: number;
  init: InitName;
  normalize?: NormalizeKind;
}

/** Seed offset of the key ε for evaluation is drawn with. */
const EVAL_SEED_OFFSET = 0x5eed;

/**
 * A variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", 2014): an
 * encoder trunk with heads for μ and log σ², z = μ + exp(½ log σ²)·ε with ε drawn in the core,
 * and a decoder. The loss per sample is the reconstruction term (BCE or squared error summed
 * over features) + β·KL(N(μ, σ²) ‖ N(0, I)), averaged over the batch; −ELBO is the same with β = 1.
 * Parameter names follow PyTorch's usual VAE module: encoder.{i}, mu, logvar, decoder.{i}.
 * evaluate(x) reports per sample, in nats: loss (reconstruction + β·KL), negElbo (reconstruction
 * + KL), reconstruction and kl; ε of row r is a function of (the seed, r) alone, so the same x
 * gives the same numbers however it is chunked, and training is not disturbed.
 */
export class VAE extends ModelBase<ResolvedVAEConfig, 'negElbo' | 'reconstruction' | 'kl'> {
  static readonly kind: string = 'vae';
  readonly metricNames = ['negElbo', 'reconstruction', 'kl'] as const;
  override readonly scoreMetrics: readonly ScoreMetric[] = ['mse', 'mae', 'euclidean', 'negElbo'];
  readonly encoder: Sequential;
  readonly muHead: Dense;
  readonly logVarHead: Dense;
  readonly decoder: Sequential;
  private readonly lossKind: LossKind;
  /** ε for evaluation: a generator whose counter is set per row (see evalNoise). */
  private evalRng: Rng | null = null;
  private evalKey: Uint32Array | null = null;
  private grad: Tensor | null = null;
  private eps: Tensor | null = null;
  private z: Tensor | null = null;
  private gmu: Tensor | null = null;
  private glogvar: Tensor | null = null;

  constructor(config: VAEConfig) {
    super(resolveVAEConfig(config), config.normalize);
    const c = this.config;
    this.lossKind = c.loss === 'bce' ? 'bceLogits' : 'mse';
    const st = this.store;
    this.encoder = new Sequential(this.k, [c.inputSize], c.layers.encoder, 'encoder', false, st);
    const trunkOut = [this.encoder.outSize];
    const headsNeedGrad = c.layers.encoder.length > 0;
    this.muHead = new Dense(this.k, trunkOut, dense(c.latentSize, { activation: 'linear' }), 'mu', headsNeedGrad, st);
    this.logVarHead = new Dense(this.k, trunkOut, dense(c.latentSize, { activation: 'linear' }), 'logvar', headsNeedGrad, st);
    this.decoder = new Sequential(this.k, [c.latentSize], c.layers.decoder, 'decoder', true, st);
    this.ready([this.encoder, this.muHead, this.logVarHead, this.decoder], () => {
      this.evalRng = new Rng(this.arena, c.seed + EVAL_SEED_OFFSET);
      this.evalKey = this.evalRng.getState().slice(0, 2);
    });
  }

  /** The KL weight the next training step uses (β during and after warm-up). */
  get currentBeta(): number {
    const { beta, klWarmupSteps } = this.config;
    if (klWarmupSteps <= 0) return beta;
    return beta * Math.min(1, (this.optimizer.step + 1) / klWarmupSteps);
  }

  /** μ of q(z|x), rows × latentSize; with { logVar: true }, { mu, logVar }. */
  encode(x: Matrix): Float32Array;
  encode(x: Matrix, options: { logVar: true }): { mu: Float32Array; logVar: Float32Array };
  encode(x: Matrix, options: { logVar?: boolean } = {}): Float32Array | { mu: Float32Array; logVar: Float32Array } {
    this.alive();
    if (typeof options !== 'object' || options === null) throw new InputError('encode options must be an object like { logVar: true }');
    checkKeys(options, ['logVar'], 'encode options');
    const data = toRows(x, this.inputSize, 'x');
    const L = this.latentSize;
    const mu = new Float32Array(data.rows * L);
    const logVar = options.logVar ? new Float32Array(data.rows * L) : null;
    this.chunks(data, (xb, rows, start) => {
      this.encodeRows(xb, rows);
      mu.set(this.arena.f32(this.muHead.output).subarray(0, rows * L), start * L);
      logVar?.set(this.arena.f32(this.logVarHead.output).subarray(0, rows * L), start * L);
    });
    return logVar ? { mu, logVar } : mu;
  }

  /** n samples decoded from z ~ N(0, I), rows × inputSize. With a seed, from a fresh generator
   *  (the model's own is untouched); without, from the model's generator. */
  sample(n: number, options: { seed?: number } = {}): Float32Array {
    this.alive();
    checkInt(n, 'n', 1);
    if (typeof options !== 'object' || options === null) throw new InputError('sample options must be an object like { seed: 1 }');
    checkKeys(options, ['seed'], 'sample options');
    if (options.seed !== undefined) checkSeed(options.seed, 'seed');
    const rng = options.seed === undefined ? this.rng : new Rng(this.arena, options.seed);
    const z = this.arena.alloc(n * this.latentSize);
    try {
      rng.normal(z, 0, 1);
      return this.decode(this.arena.read(z));
    } finally {
      this.arena.release(z);
      if (rng !== this.rng) rng.dispose();
    }
  }

  /**
   * Decodings along the straight line between the codes (μ) of two inputs a and b (one row of
   * inputSize each): `steps` rows (≥ 2), the first decoding μ(a), the last μ(b).
   */
  interpolate(a: Matrix | readonly number[], b: Matrix | readonly number[], steps: number): Float32Array {
    this.alive();
    checkInt(steps, 'steps', 2);
    const one = (v: unknown, what: string) => {
      const r = toRows(isRow(v) ? [v as number[]] : v, this.inputSize, what);
      if (r.rows !== 1) throw new InputError(`${what} must be one row of ${this.inputSize} values; got ${r.rows} rows`);
      return r.data;
    };
    const ra = one(a, 'a');
    const rb = one(b, 'b');
    const L = this.latentSize;
    const mu = this.encode(concat(ra, rb));
    const z = new Float32Array(steps * L);
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let j = 0; j < L; j++) z[s * L + j] = mu[j] + t * (mu[L + j] - mu[j]);
    }
    return this.decode(z);
  }

  params(): Param[] {
    return [...this.encoder.params(), ...this.muHead.params(), ...this.logVarHead.params(), ...this.decoder.params()];
  }

  // ---- ModelBase ----

  protected summaryParts(): SummaryPart[] {
    return [this.encoder, { name: 'mu', layer: this.muHead }, { name: 'logvar', layer: this.logVarHead }, this.decoder];
  }

  protected get decoderNet(): Sequential {
    return this.decoder;
  }

  /** Inference encodes to μ (the logvar head is needed only for sampling and the ELBO). */
  protected inferenceLayers(): InferenceLayers {
    return { encoder: [...this.encoder.layers, this.muHead], decoder: this.decoder.layers };
  }

  /** Deterministic reconstruction: decode(μ). */
  protected reconstructRows(x: Tensor, rows: number): Tensor {
    this.encodeRows(x, rows);
    return this.decoder.forward(this.muHead.output, rows, false);
  }

  protected computeGradients(x: Tensor, rows: number): number {
    const n = rows * this.latentSize;
    const beta = this.currentBeta;
    const h = this.encoder.forward(x, rows, true);
    const mu = this.muHead.forward(h, rows, true);
    const lv = this.logVarHead.forward(h, rows, true);
    this.k.reparameterize(this.rng, mu, lv, this.eps!, this.z!, n);
    this.decoder.forward(this.z!, rows, true);
    const rec = this.recLoss(x, rows, this.grad) / rows;
    const kl = this.k.klNormal(mu, lv, this.gmu, this.glogvar, n, beta / rows) / rows;
    const dz = this.decoder.backward(this.grad!, rows, this.lossKind === 'bceLogits')!;
    this.k.reparameterizeBackward(dz, lv, this.eps!, this.gmu!, this.glogvar!, n);
    const dhMu = this.muHead.backward(this.gmu!, rows, true);
    const dhLv = this.logVarHead.backward(this.glogvar!, rows, true);
    if (dhMu && dhLv) {
      this.k.axpy(1, dhLv, dhMu, rows * this.encoder.outSize);
      this.encoder.backward(dhMu, rows);
    }
    return this.record(rec, kl, beta);
  }

  /** 'negElbo': per row, the reconstruction term + KL with the row's evaluation ε (a function
   *  of the row), so the scores average to evaluate(x).negElbo. */
  protected override scoreRows(x: Tensor, rows: number, metric: ScoreMetric, firstRow: number): Tensor {
    if (metric !== 'negElbo') return super.scoreRows(x, rows, metric, firstRow);
    this.computeLoss(x, rows, firstRow);
    const D = this.inputSize;
    const L = this.latentSize;
    const last = this.decoder.last;
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const row = (t: Tensor) => this.arena.view(t, r * D, [D]);
      const rec = this.k.loss(this.lossKind, { output: row(last.output), preActivation: row(last.preActivation) }, row(x), null, 1, D, 0);
      out[r] = rec + this.k.klNormal(this.arena.view(this.muHead.output, r * L, [L]), this.arena.view(this.logVarHead.output, r * L, [L]), null, null, L, 0);
    }
    this.arena.write(this.perRow!, out);
    return this.perRow!;
  }

  protected computeLoss(x: Tensor, rows: number, firstRow: number): number {
    const n = rows * this.latentSize;
    this.encodeRows(x, rows);
    const mu = this.muHead.output;
    const lv = this.logVarHead.output;
    this.evalNoise(mu, lv, rows, firstRow);
    this.decoder.forward(this.z!, rows, false);
    const rec = this.recLoss(x, rows, null) / rows;
    const kl = this.k.klNormal(mu, lv, null, null, n, 0) / rows;
    return this.record(rec, kl, this.config.beta);
  }

  protected allocBuffers(rows: number): void {
    const a = this.arena;
    this.encoder.reserve(rows);
    this.muHead.reserve(rows);
    this.logVarHead.reserve(rows);
    this.decoder.reserve(rows);
    const n = rows * this.latentSize;
    this.grad = a.alloc(rows * this.inputSize);
    this.eps = a.alloc(n);
    this.z = a.alloc(n);
    this.gmu = a.alloc(n);
    this.glogvar = a.alloc(n);
  }

  protected releaseModelBuffers(): void {
    for (const t of [this.grad, this.eps, this.z, this.gmu, this.glogvar]) if (t) this.arena.release(t);
    this.grad = this.eps = this.z = this.gmu = this.glogvar = null;
  }

  protected disposeLayers(): void {
    this.encoder.dispose();
    this.muHead.dispose();
    this.logVarHead.dispose();
    this.decoder.dispose();
    this.evalRng?.dispose();
  }

  // ---- internals ----

  /**
   * z = μ + σ·ε for evaluation, with ε of data-set row r drawn from the Philox blocks
   * (evalKey, counter r·B + b, call 0), b < B = ⌈L/4⌉ (four words per block; see
   * assembly/random.ts): a function of the row alone, not of the chunking. With L a multiple of 4
   * the rows' blocks are consecutive and one call draws a whole chunk; else one call per row.
   */
  private evalNoise(mu: Tensor, lv: Tensor, rows: number, firstRow: number): void {
    const L = this.latentSize;
    const blocks = Math.ceil(L / 4);
    const rng = this.evalRng!;
    const at = (row: number) => {
      const base = row * blocks; // < 2⁵³: split into the two counter words
      rng.setState(Uint32Array.of(this.evalKey![0], this.evalKey![1], base >>> 0, Math.floor(base / 4294967296), 0, 0, 0, 0));
    };
    if (L % 4 === 0) {
      at(firstRow);
      this.k.reparameterize(rng, mu, lv, this.eps!, this.z!, rows * L);
      return;
    }
    const a = this.arena;
    for (let r = 0; r < rows; r++) {
      at(firstRow + r);
      const row = (t: Tensor) => a.view(t, r * L, [L]);
      this.k.reparameterize(rng, row(mu), row(lv), row(this.eps!), row(this.z!), L);
    }
  }

  private encodeRows(x: Tensor, rows: number): void {
    const h = this.encoder.forward(x, rows, false);
    this.muHead.forward(h, rows, false);
    this.logVarHead.forward(h, rows, false);
  }

  /** The reconstruction term summed over the batch; with grad, its gradient divided by rows. */
  private recLoss(target: Tensor, rows: number, grad: Tensor | null): number {
    return this.k.loss(this.lossKind, this.decoder.last, target, grad, rows, this.inputSize, 1 / rows);
  }

  private record(rec: number, kl: number, beta: number): number {
    this.lastMetrics.negElbo = rec + kl;
    this.lastMetrics.reconstruction = rec;
    this.lastMetrics.kl = kl;
    return rec + beta * kl;
  }
}

/** Row r (of `width` values) of a row-major tensor, as a tensor handle for one kernel call. */
function isRow(v: unknown): boolean {
  return (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number')) || false;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Every key of VAEConfig (typed: none missing, none extra). */
const CONFIG_KEYS: { [K in keyof VAEConfig]-?: true } = {
  inputSize: true, hidden: true, latentSize: true, decoderHidden: true, activation: true, outputActivation: true, layers: true,
  loss: true, beta: true, klWarmupSteps: true, optimizer: true, seed: true, init: true, normalize: true,
};

function resolveVAEConfig(config: VAEConfig): ResolvedVAEConfig {
  if (typeof config !== 'object' || config === null) throw new InputError('the VAE config must be an object');
  checkKeys(config, Object.keys(CONFIG_KEYS), 'VAE config');
  const inputSize = checkInt(config.inputSize, 'inputSize', 1);
  const latentSize = checkInt(config.latentSize, 'latentSize', 1);
  let layers: LayersDescription;
  if (config.layers !== undefined) {
    const l = checkLayersObject(config.layers, 'layers');
    layers = { encoder: checkLayers(l.encoder, 'layers.encoder'), decoder: checkLayers(l.decoder, 'layers.decoder') };
    const out = lastDense(layers.decoder, 'layers.decoder');
    if (out.units !== inputSize) throw new InputError(`layers.decoder must end with ${inputSize} units (inputSize); got ${out.units}`);
  } else {
    const hidden = widths(config.hidden ?? [400], 'hidden');
    const decoderHidden = widths(config.decoderHidden ?? [...hidden].reverse(), 'decoderHidden');
    const act = activationSpec(config.activation ?? 'relu', 'activation');
    const output = activationSpec(config.outputActivation ?? 'sigmoid', 'outputActivation');
    layers = {
      encoder: hidden.map((u) => dense(u, act)),
      decoder: [...decoderHidden.map((u) => dense(u, act)), dense(inputSize, output)],
    };
  }
  const loss = resolveLoss(config.loss, lastDense(layers.decoder, 'layers.decoder').activation);
  if (loss !== 'bce' && loss !== 'mse') throw new InputError(`the VAE's loss must be 'bce' or 'mse'; got '${loss}'`);
  const beta = checkNumber(config.beta ?? 1, 'beta', 0);
  const klWarmupSteps = checkInt(config.klWarmupSteps ?? 0, 'klWarmupSteps', 0);
  const seed = config.seed ?? 0;
  checkSeed(seed);
  if (seed + EVAL_SEED_OFFSET > Number.MAX_SAFE_INTEGER) throw new InputError(`seed must be at most ${Number.MAX_SAFE_INTEGER - EVAL_SEED_OFFSET}`);
  const init = config.init ?? 'glorotUniform';
  checkInit(init);
  return { inputSize, latentSize, layers, loss, beta, klWarmupSteps, optimizer: resolveOptimizer(config.optimizer), seed, init };
}
