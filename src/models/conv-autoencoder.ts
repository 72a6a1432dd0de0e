import { checkInt, toRows, type Matrix } from '../data.js';
import { InputError, ShapeError } from '../errors.js';
import { ACTIVATIONS, type ActivationName, type LossKind } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import { checkSeed } from '../runtime/rng.js';
import { checkInit, type InitName } from '../nn/init.js';
import { LAYERS, Sequential, type LayerSpec, type Param } from '../nn/layers.js';
import { resolveOptimizer, type OptimizerConfig, type OptimizerName, type ResolvedOptimizer } from '../nn/optimizers.js';
import { ModelBase } from './base.js';
import { resolveLoss, type Activation, type LayersDescription, type LossName } from './spec.js';

export interface ConvAutoencoderConfig {
  /** Per-sample shape [channels, height, width]; rows are these samples flattened (C·H·W). */
  inputShape: [number, number, number];
  /** Output channels of the encoder's convolutions, outermost first. Default [16, 32]. */
  filters?: number[];
  /** Default 3. */
  kernelSize?: number;
  /** Default 2: each convolution halves the image (rounded up with the default padding). */
  stride?: number;
  /** Default ⌊kernelSize/2⌋. */
  padding?: number;
  latentSize: number;
  /** Activation of every conv and hidden dense layer. Default 'relu'. */
  activation?: Activation;
  /** The code layer's activation. Default 'linear'. */
  latentActivation?: Activation;
  /** Default 'sigmoid'. */
  outputActivation?: Activation;
  /** Default 'bce' with a sigmoid output, else 'mse'. */
  loss?: LossName;
  optimizer?: OptimizerConfig | OptimizerName;
  seed?: number;
  init?: InitName;
  /** A resolved layers description (what a model file stores); replaces filters/kernelSize/... */
  layers?: { encoder: LayerSpec[]; decoder: LayerSpec[] };
}

/** The config with every default filled in: JSON, enough to rebuild the model. */
export interface ResolvedConvAutoencoderConfig {
  inputShape: [number, number, number];
  inputSize: number;
  latentSize: number;
  layers: LayersDescription;
  loss: LossName;
  optimizer: ResolvedOptimizer;
  seed: number;
  init: InitName;
}

/**
 * A convolutional autoencoder. Encoder: one conv2d (stride 2 by default) per entry of
 * `filters`, then flatten and a dense code layer. Decoder: a dense layer back to the last conv's
 * output, reshape, then transposed convolutions retracing the encoder's sizes exactly (their
 * outputPadding is derived per axis), the last one giving the input's channels with the output
 * activation. The options resolve into a layers description (`config.layers`, what a model file
 * stores); the model base supplies fit, decode, reconstruct, save and the rest.
 */
export class ConvAutoencoder extends ModelBase<ResolvedConvAutoencoderConfig> {
  readonly kind: string = 'convAutoencoder';
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  private readonly lossKind: LossKind;
  private grad: Tensor | null = null;

  constructor(config: ConvAutoencoderConfig) {
    super(resolveConvConfig(config));
    const c = this.config;
    this.lossKind = c.loss === 'bce' ? 'bceLogits' : c.loss;
    let encoder: Sequential | null = null;
    try {
      encoder = new Sequential(this.k, c.inputShape, c.layers.encoder, 'encoder', false);
      if (encoder.outSize !== c.latentSize) {
        throw new ShapeError(`layers.encoder must end with ${c.latentSize} values per sample (latentSize); it gives [${encoder.last.outShape.join(', ')}]`);
      }
      this.encoder = encoder;
      this.decoder = new Sequential(this.k, [c.latentSize], c.layers.decoder, 'decoder', true);
      if (this.decoder.outSize !== c.inputSize) {
        this.decoder.dispose();
        throw new ShapeError(`layers.decoder must end with ${c.inputSize} values per sample ([${c.inputShape.join(', ')}]); it gives [${this.decoder.last.outShape.join(', ')}]`);
      }
    } catch (e) {
      encoder?.dispose();
      this.rng.dispose();
      throw e;
    }
    this.encoder.init(this.rng, c.init);
    this.decoder.init(this.rng, c.init);
    this.ready();
  }

  /** [C, H, W] of one sample. */
  get inputShape(): [number, number, number] {
    return [...this.config.inputShape];
  }

  /** Codes, rows × latentSize. */
  encode(x: Matrix): Float32Array {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    return this.map(data, this.latentSize, (xb, rows) => this.encoder.forward(xb, rows, false));
  }

  /** Mean loss (the training objective, per value) and mean squared error per value. */
  evaluate(x: Matrix): { loss: number; mse: number } {
    this.alive();
    const data = toRows(x, this.inputSize, 'x');
    let loss = 0;
    let se = 0;
    this.chunks(data, (xb, rows) => {
      loss += this.computeLoss(xb, rows) * rows;
      se += this.k.loss('mse', this.decoder.last.output, xb, null, rows * this.inputSize, 0);
    });
    return { loss: loss / data.rows, mse: se / (data.rows * this.inputSize) };
  }

  params(): Param[] {
    return [...this.encoder.params(), ...this.decoder.params()];
  }

  // ---- ModelBase ----

  protected get decoderNet(): Sequential {
    return this.decoder;
  }

  protected reconstructRows(x: Tensor, rows: number): Tensor {
    return this.decoder.forward(this.encoder.forward(x, rows, false), rows, false);
  }

  protected computeGradients(x: Tensor, rows: number): number {
    this.decoder.forward(this.encoder.forward(x, rows, true), rows, true);
    const loss = this.lossOf(x, rows, this.grad);
    const g = this.decoder.backward(this.grad!, rows, this.lossKind === 'bceLogits')!;
    this.encoder.backward(g, rows);
    return loss;
  }

  protected computeLoss(x: Tensor, rows: number): number {
    this.decoder.forward(this.encoder.forward(x, rows, false), rows, false);
    return this.lossOf(x, rows, null);
  }

  protected allocBuffers(rows: number): void {
    this.encoder.reserve(rows);
    this.decoder.reserve(rows);
    this.grad = this.arena.alloc(rows * this.inputSize);
  }

  protected releaseModelBuffers(): void {
    if (this.grad) this.arena.release(this.grad);
    this.grad = null;
  }

  protected disposeLayers(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }

  /** The mean loss per value of the batch (and its gradient, when grad is given). */
  private lossOf(target: Tensor, rows: number, grad: Tensor | null): number {
    const n = rows * this.inputSize;
    const last = this.decoder.last;
    const pred = this.lossKind === 'bceLogits' ? last.preActivation : last.output;
    return this.k.loss(this.lossKind, pred, target, grad, n, 1 / n) / n;
  }
}

function act(a: Activation): { activation: ActivationName; alpha?: number } {
  if (typeof a === 'object' && a !== null) return { activation: a.type, alpha: a.alpha };
  return { activation: a };
}

function checkActivation(a: unknown, what: string): Activation {
  const name = typeof a === 'object' && a !== null ? (a as { type: unknown }).type : a;
  if (typeof name !== 'string' || !(name in ACTIVATIONS)) {
    throw new InputError(`${what} must be one of ${Object.keys(ACTIVATIONS).join(', ')}; got ${JSON.stringify(name)}`);
  }
  return a as Activation;
}

/** Checks a stored layers description: arrays of objects whose type is a known layer kind (each
 *  layer validates its own options when built). */
function checkSpecs(v: unknown, what: string): LayerSpec[] {
  if (!Array.isArray(v) || v.length === 0) throw new InputError(`${what} must be a non-empty array of layer specs`);
  return v.map((spec, i) => {
    const type = typeof spec === 'object' && spec !== null ? (spec as { type: unknown }).type : undefined;
    if (typeof type !== 'string' || !Object.hasOwn(LAYERS, type)) {
      throw new InputError(`${what}[${i}].type must be one of ${Object.keys(LAYERS).join(', ')}; got ${JSON.stringify(type)}`);
    }
    return JSON.parse(JSON.stringify(spec)) as LayerSpec;
  });
}

/** The ConvAutoencoder options resolved into a layers description and defaults. */
export function resolveConvConfig(config: ConvAutoencoderConfig): ResolvedConvAutoencoderConfig {
  if (typeof config !== 'object' || config === null) throw new InputError('the ConvAutoencoder config must be an object');
  const shape = config.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new InputError(`inputShape must be [channels, height, width]; got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : String(shape)}`);
  }
  const [c, h, w] = shape.map((d, i) => checkInt(d, `inputShape[${i}]`, 1));
  const inputSize = c * h * w;
  const seed = config.seed ?? 0;
  checkSeed(seed);
  const init = config.init ?? 'glorotUniform';
  checkInit(init);
  const latentSize = checkInt(config.latentSize, 'latentSize', 1);
  const common = { inputShape: [c, h, w] as [number, number, number], inputSize, latentSize, optimizer: resolveOptimizer(config.optimizer), seed, init };
  const outputOf = (layers: LayersDescription) => (layers.decoder[layers.decoder.length - 1] as { activation?: ActivationName }).activation ?? 'linear';
  if (config.layers !== undefined) {
    const l = config.layers as { encoder?: unknown; decoder?: unknown };
    if (typeof l !== 'object' || l === null) throw new InputError('layers must be { encoder: [...], decoder: [...] }');
    const layers = { encoder: checkSpecs(l.encoder, 'layers.encoder'), decoder: checkSpecs(l.decoder, 'layers.decoder') };
    return { ...common, layers, loss: resolveLoss(config.loss, outputOf(layers)) };
  }

  const filters = config.filters ?? [16, 32];
  if (!Array.isArray(filters) || filters.length === 0) throw new InputError(`filters must be a non-empty array of channel counts; got ${String(filters)}`);
  filters.forEach((f, i) => checkInt(f, `filters[${i}]`, 1));
  const k = checkInt(config.kernelSize ?? 3, 'kernelSize', 1);
  const s = checkInt(config.stride ?? 2, 'stride', 1);
  const p = checkInt(config.padding ?? Math.floor(k / 2), 'padding', 0);
  const hidden = act(checkActivation(config.activation ?? 'relu', 'activation'));
  const latent = act(checkActivation(config.latentActivation ?? 'linear', 'latentActivation'));
  const output = act(checkActivation(config.outputActivation ?? 'sigmoid', 'outputActivation'));

  // spatial sizes after each conv: n → ⌊(n + 2p − k)/s⌋ + 1
  const sizes: [number, number][] = [[h, w]];
  for (let i = 0; i < filters.length; i++) {
    const [ph, pw] = sizes[i];
    const next: [number, number] = [Math.floor((ph + 2 * p - k) / s) + 1, Math.floor((pw + 2 * p - k) / s) + 1];
    if (ph + 2 * p < k || pw + 2 * p < k) {
      throw new ShapeError(`filters[${i}]: the ${k}×${k} kernel does not fit the ${ph}×${pw} input of that convolution ` +
        `(padding ${p}); use fewer filters, a smaller kernel or stride, or a larger input`);
    }
    sizes.push(next);
  }
  const encoder: LayerSpec[] = filters.map((f) => ({ type: 'conv2d', filters: f, kernelSize: k, stride: s, padding: p, ...hidden }));
  const [lh, lw] = sizes[filters.length];
  const lc = filters[filters.length - 1];
  encoder.push({ type: 'flatten' }, { type: 'dense', units: latentSize, ...latent });

  const decoder: LayerSpec[] = [{ type: 'dense', units: lc * lh * lw, ...hidden }, { type: 'reshape', shape: [lc, lh, lw] }];
  for (let i = filters.length - 1; i >= 0; i--) {
    const [oh, ow] = sizes[i];
    const [ih, iw] = sizes[i + 1];
    // output padding that gives back exactly the encoder's size: always in [0, s)
    const outputPadding: [number, number] = [oh - ((ih - 1) * s - 2 * p + k), ow - ((iw - 1) * s - 2 * p + k)];
    decoder.push({
      type: 'convTranspose2d', filters: i > 0 ? filters[i - 1] : c, kernelSize: k, stride: s, padding: p,
      ...(outputPadding[0] || outputPadding[1] ? { outputPadding } : {}), ...(i > 0 ? hidden : output),
    });
  }
  const layers = { encoder, decoder };
  return { ...common, layers, loss: resolveLoss(config.loss, outputOf(layers)) };
}
