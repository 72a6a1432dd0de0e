// Resolving the user's model options into the JSON layers description every model is built from.
import { InputError } from '../errors.js';
import { checkInt } from '../data.js';
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

/** Validates a list of layer specs and returns a clean copy (JSON, nothing extra). */
export function checkLayers(v: unknown, what: string): LayerSpec[] {
  if (!Array.isArray(v)) throw new InputError(`${what} must be an array of layer specs; got ${String(v)}`);
  return v.map((s: unknown, i) => {
    const w = `${what}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new InputError(`${w} must be a layer spec object; got ${String(s)}`);
    const spec = s as Record<string, unknown>;
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
