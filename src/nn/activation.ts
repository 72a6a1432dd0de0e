import { InputError } from '../errors.js';
import { ACTIVATIONS, DEFAULT_ALPHA, type ActivationName } from '../runtime/kernels.js';

/** An activation by name, or with its parameter (leakyRelu slope, elu alpha). */
export type Activation = ActivationName | { type: ActivationName; alpha: number };

/**
 * The one activation validator: a name, or { type, alpha } with a finite alpha, as a layer spec
 * stores it ({ activation, alpha? }). `what` names the option in the error.
 */
export function activationSpec(a: unknown, what: string): { activation: ActivationName; alpha?: number } {
  const name = typeof a === 'object' && a !== null ? (a as { type: unknown }).type : a;
  if (typeof name !== 'string' || !Object.hasOwn(ACTIVATIONS, name)) {
    throw new InputError(`${what} must be one of ${Object.keys(ACTIVATIONS).join(', ')}; got ${JSON.stringify(name)}`);
  }
  if (typeof a === 'object' && a !== null) {
    const alpha = (a as { alpha: unknown }).alpha;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new InputError(`${what}.alpha must be a finite number; got ${String(alpha)}`);
    return { activation: name as ActivationName, alpha };
  }
  return { activation: name as ActivationName };
}

/** A layer spec's activation ('linear' when absent) checked, with its kernel id and alpha
 *  (PyTorch's default when the spec gives none). */
export function layerActivation(spec: { activation?: unknown; alpha?: unknown }, at: string): { name: ActivationName; act: number; alpha: number } {
  const name = spec.activation ?? 'linear';
  const { activation, alpha } = activationSpec(spec.alpha === undefined ? name : { type: name, alpha: spec.alpha }, `${at}: activation`);
  return { name: activation, act: ACTIVATIONS[activation], alpha: alpha ?? DEFAULT_ALPHA[activation] ?? 0 };
}
