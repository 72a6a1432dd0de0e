import { checkInt } from '../data.js';
import { InputError, ShapeError } from '../errors.js';
import type { InitName } from '../nn/init.js';
import type { LayerSpec } from '../nn/layers.js';
import type { OptimizerConfig, OptimizerName } from '../nn/optimizers.js';
import { Autoencoder, type AutoencoderConfig } from './autoencoder.js';
import { activationSpec, type Activation, type LayersDescription, type LossName } from './spec.js';
import type { NormalizeOption } from './normalizer.js';

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
  /** Per-feature normalization inside the model (fitted at the first fit). Default 'none'. */
  normalize?: NormalizeOption;
  /** A resolved layers description (what a model file stores); replaces filters/kernelSize/... */
  layers?: { encoder: LayerSpec[]; decoder: LayerSpec[] };
}

/**
 * A convolutional autoencoder. Encoder: one conv2d (stride 2 by default) per entry of
 * `filters`, then flatten and a dense code layer. Decoder: a dense layer back to the last conv's
 * output, reshape, then transposed convolutions retracing the encoder's sizes exactly (their
 * outputPadding is derived per axis), the last one giving the input's channels with the output
 * activation. It is an Autoencoder whose options resolve into a conv layers description
 * (`config.layers`, what a model file stores): training, inference, noise and sparsity options,
 * save and load are the Autoencoder's own.
 */
export class ConvAutoencoder extends Autoencoder {
  override readonly kind: string = 'convAutoencoder';

  constructor(config: ConvAutoencoderConfig) {
    super(resolveConvConfig(config));
  }

  /** [C, H, W] of one sample. */
  get inputShape(): [number, number, number] {
    return [...this.config.inputShape] as [number, number, number];
  }
}

/** The ConvAutoencoder options resolved into a layers description and defaults. */
export function resolveConvConfig(config: ConvAutoencoderConfig): AutoencoderConfig {
  if (typeof config !== 'object' || config === null) throw new InputError('the ConvAutoencoder config must be an object');
  const shape = config.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new InputError(`inputShape must be [channels, height, width]; got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : String(shape)}`);
  }
  const [c, h, w] = shape.map((d, i) => checkInt(d, `inputShape[${i}]`, 1));
  const inputSize = c * h * w;
  const latentSize = checkInt(config.latentSize, 'latentSize', 1);
  // everything else is the Autoencoder's to validate
  const common = { inputShape: [c, h, w], inputSize, latentSize, optimizer: config.optimizer, seed: config.seed, init: config.init, normalize: config.normalize };
  if (config.layers !== undefined) {
    const l = config.layers as { encoder?: unknown; decoder?: unknown };
    if (typeof l !== 'object' || l === null) throw new InputError('layers must be { encoder: [...], decoder: [...] }');
    return { ...common, layers: l as LayersDescription, loss: config.loss };
  }

  const filters = config.filters ?? [16, 32];
  if (!Array.isArray(filters) || filters.length === 0) throw new InputError(`filters must be a non-empty array of channel counts; got ${String(filters)}`);
  filters.forEach((f, i) => checkInt(f, `filters[${i}]`, 1));
  const k = checkInt(config.kernelSize ?? 3, 'kernelSize', 1);
  const s = checkInt(config.stride ?? 2, 'stride', 1);
  const p = checkInt(config.padding ?? Math.floor(k / 2), 'padding', 0);
  const hidden = activationSpec(config.activation ?? 'relu', 'activation');
  const latent = activationSpec(config.latentActivation ?? 'linear', 'latentActivation');
  const output = activationSpec(config.outputActivation ?? 'sigmoid', 'outputActivation');

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
  return { ...common, layers: { encoder, decoder }, loss: config.loss };
}
