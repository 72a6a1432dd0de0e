// Resolving the user's model options into the JSON layers description every model is built from.
import { InputError } from '../errors.js';
import { checkInt, checkKeys } from '../data.js';
import type { ActivationName } from '../runtime/kernels.js';
import { activationSpec, type Activation } from '../nn/activation.js';
import { LAYERS, checkDropoutSpec, type DenseSpec, type LayerSpec } from '../nn/layers.js';

// the activation validator is nn's (one for options and layer specs alike)
export { activationSpec, type Activation };
export type LossName = 'bce' | 'mse' | 'l1';
export const LOSSES: readonly LossName[] = ['bce', 'mse', 'l1'];

/** The layers description: what a model file stores to rebuild the architecture. */
export interface LayersDescription {
  encoder: LayerSpec[];
  decoder: LayerSpec[];
}


export function widths(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new InputError(`${what} must be an array of layer widths; got ${String(v)}`);
  return v.map((u, i) => checkInt(u, `${what}[${i}]`, 1));
}

export const dense = (units: number, a: { activation: ActivationName; alpha?: number }): DenseSpec => ({ type: 'dense', units, ...a });

/** Every key of T, as an object: a table typed with it must list exactly T's keys. */
type KeysOf<T> = { [K in keyof T]-?: true };
/** The spec of layer type T (a spec may serve several types, as Pool2dSpec does). */
type SpecOf<T, S = LayerSpec> = S extends { type: infer U } ? (T extends U ? S : never) : never;
/** The keys each layer spec may have (typed against the spec interfaces: none missing, none extra). */
const LAYER_KEYS: { [T in LayerSpec['type']]: KeysOf<SpecOf<T>> } = {
  dense: { type: true, units: true, activation: true, alpha: true },
  dropout: { type: true, rate: true },
  conv2d: { type: true, filters: true, kernelSize: true, stride: true, padding: true, dilation: true, activation: true, alpha: true },
  convTranspose2d: {
    type: true, filters: true, kernelSize: true, stride: true, padding: true, outputPadding: true, dilation: true, activation: true, alpha: true,
  },
  maxPool2d: { type: true, kernelSize: true, stride: true, padding: true },
  avgPool2d: { type: true, kernelSize: true, stride: true, padding: true },
  upsample: { type: true, scale: true, mode: true },
  flatten: { type: true },
  reshape: { type: true, shape: true },
};

/** Checks a `layers` description's own keys ({ encoder, decoder }). */
export function checkLayersObject(v: unknown, what: string): { encoder?: unknown; decoder?: unknown } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${what} must be { encoder: [...], decoder: [...] }; got ${String(v)}`);
  checkKeys(v, ['encoder', 'decoder'], what);
  return v;
}

/** Validates a list of layer specs and returns a clean copy (JSON, nothing extra). */
export function checkLayers(v: unknown, what: string): LayerSpec[] {
  if (!Array.isArray(v)) throw new InputError(`${what} must be an array of layer specs; got ${String(v)}`);
  return v.map((s: unknown, i) => {
    const w = `${what}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new InputError(`${w} must be a layer spec object; got ${String(s)}`);
    const spec = s as Record<string, unknown>;
    if (typeof spec.type === 'string' && Object.hasOwn(LAYER_KEYS, spec.type)) {
      checkKeys(spec, Object.keys(LAYER_KEYS[spec.type as LayerSpec['type']]), w);
    }
    if (spec.type === 'dense') {
      const units = checkInt(spec.units, `${w}.units`, 1);
      const act = activationSpec(spec.alpha === undefined ? (spec.activation ?? 'linear') : { type: spec.activation, alpha: spec.alpha }, `${w}.activation`);
      return dense(units, act);
    }
    if (spec.type === 'dropout') {
      checkDropoutSpec(spec, w);
      return { type: 'dropout', rate: spec.rate as number };
    }
    if (typeof spec.type === 'string' && Object.hasOwn(LAYERS, spec.type)) {
      // conv, pooling, reshape, ...: each layer validates its own options when it is built
      return JSON.parse(JSON.stringify(spec)) as LayerSpec;
    }
    throw new InputError(`${w}.type must be one of ${Object.keys(LAYERS).join(', ')}; got ${JSON.stringify(spec.type)}`);
  });
}

/** The activation a list of layers ends with ('linear' for a layer without one). */
export function lastActivation(specs: LayerSpec[]): ActivationName {
  const last = specs[specs.length - 1] as { activation?: ActivationName } | undefined;
  return last?.activation ?? 'linear';
}

/** The last layer of a list, which must be dense (a code layer). */
export function lastDense(specs: LayerSpec[], what: string): DenseSpec {
  const last = specs[specs.length - 1];
  if (!last || last.type !== 'dense') throw new InputError(`${what} must end with a dense layer`);
  return last;
}

/** The loss, defaulting to BCE for a sigmoid output and MSE otherwise; BCE needs the sigmoid. */
export function resolveLoss(loss: unknown, output: ActivationName): LossName {
  const l = loss ?? (output === 'sigmoid' ? 'bce' : 'mse');
  if (!LOSSES.includes(l as LossName)) throw new InputError(`loss must be one of ${LOSSES.join(', ')}; got ${JSON.stringify(l)}`);
  if (l === 'bce' && output !== 'sigmoid') {
    throw new InputError(`loss 'bce' needs outputActivation 'sigmoid' (it is computed from the logits); got '${output}'`);
  }
  return l as LossName;
}
