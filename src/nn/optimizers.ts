import { checkKeys } from '../data.js';
import { InputError, RuntimeError } from '../errors.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { ParamStore } from './params.js';

interface Common {
  learningRate?: number;
  /** L2 penalty (coupled for all but AdamW, where it is decoupled weight decay). */
  weightDecay?: number;
  /** Rescale all gradients together when their global L2 norm exceeds this (clip_grad_norm_). */
  clipNorm?: number;
}
/** Optimizer settings; names and defaults follow torch.optim. */
export type OptimizerConfig =
  | ({ type: 'sgd'; momentum?: number; dampening?: number; nesterov?: boolean } & Common)
  | ({ type: 'adam' | 'adamw'; beta1?: number; beta2?: number; epsilon?: number; amsgrad?: boolean } & Common)
  | ({ type: 'rmsprop'; alpha?: number; epsilon?: number; momentum?: number; centered?: boolean } & Common)
  | ({ type: 'adagrad'; lrDecay?: number; initialAccumulatorValue?: number; epsilon?: number } & Common)
  | ({ type: 'adadelta'; rho?: number; epsilon?: number } & Common);
export type OptimizerName = OptimizerConfig['type'];

const DEFAULTS = {
  sgd: { learningRate: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
  adam: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, amsgrad: false, weightDecay: 0 },
  adamw: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, amsgrad: false, weightDecay: 0.01 },
  rmsprop: { learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, momentum: 0, centered: false, weightDecay: 0 },
  adagrad: { learningRate: 0.01, lrDecay: 0, initialAccumulatorValue: 0, epsilon: 1e-10, weightDecay: 0 },
  adadelta: { learningRate: 1.0, rho: 0.9, epsilon: 1e-6, weightDecay: 0 },
} as const;

/** A config with every default filled in (JSON, saved with the model). */
export type ResolvedOptimizer = { type: OptimizerName; learningRate: number; weightDecay: number; clipNorm: number } & Record<
  string,
  number | boolean | string
>;
type Resolved = ResolvedOptimizer;

/** Validates a config and fills in the defaults; throws InputError naming the bad field. */
export function resolveOptimizer(config: OptimizerConfig | OptimizerName | undefined): Resolved {
  const c = typeof config === 'string' ? { type: config } : (config ?? { type: 'adam' as const });
  if (typeof c !== 'object' || c === null || typeof c.type !== 'string' || !Object.hasOwn(DEFAULTS, c.type)) {
    throw new InputError(`optimizer.type must be one of ${Object.keys(DEFAULTS).join(', ')}; got ${JSON.stringify((c as { type?: unknown })?.type ?? c)}`);
  }
  const defaults = DEFAULTS[c.type as OptimizerName];
  checkKeys(c, ['type', 'clipNorm', ...Object.keys(defaults)], 'optimizer');
  const out: Resolved = { type: c.type, clipNorm: 0, ...defaults } as Resolved;
  for (const [key, value] of Object.entries(c)) {
    if (key === 'type') continue;
    const expected = typeof (defaults as Record<string, unknown>)[key] === 'boolean' ? 'boolean' : 'number';
    if (expected === 'boolean' ? typeof value !== 'boolean' : typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InputError(`optimizer.${key} must be ${expected === 'boolean' ? 'a boolean' : 'a finite number ≥ 0'}; got ${String(value)}`);
    }
    out[key] = value;
  }
  if ((out.type === 'adam' || out.type === 'adamw') && ((out.beta1 as number) >= 1 || (out.beta2 as number) >= 1)) {
    throw new InputError(`optimizer.beta1 and beta2 must be in [0, 1); got ${out.beta1}, ${out.beta2}`);
  }
  return out;
}

/** State buffers the algorithm keeps per value (Adam's third, v^max, only with AMSGrad). */
export function stateSlots(c: ResolvedOptimizer): number {
  switch (c.type) {
    case 'adam':
    case 'adamw':
      return c.amsgrad ? 3 : 2;
    case 'rmsprop':
      return 3;
    case 'adadelta':
      return 2;
    default:
      return 1;
  }
}

/**
 * One algorithm's fused update kernel applied to a model's flat buffers (ParamStore): the values
 * and their state buffers (moments, ...) in one block, the gradients in another, so a step is one
 * update call whatever the number of tensors. The config comes resolved (the model resolved it
 * once, with its own config). An update that leaves any value or state non-finite (an overflow:
 * too large a learning rate, or non-finite gradients) is undone from a copy of the block taken
 * before it, bit for bit, and reported: the weights never hold Infinity or NaN.
 */
export class Optimizer {
  readonly config: Resolved;
  /** Steps taken (PyTorch's `step`, from 1 at the first update). */
  step = 0;
  /** Current learning rate (schedules change it between steps). */
  learningRate: number;
  /** The block as it was before the current update, to undo it. */
  private readonly backup: Tensor;

  constructor(private readonly k: Kernels, private readonly store: ParamStore, config: Resolved) {
    if (store.stateSlots !== stateSlots(config)) {
      throw new RuntimeError(`Optimizer: the store has ${store.stateSlots} state buffers, '${config.type}' needs ${stateSlots(config)}`);
    }
    this.config = config;
    this.learningRate = config.learningRate;
    this.backup = k.arena.alloc(store.block.size);
    if (config.type === 'adagrad' && config.initialAccumulatorValue) k.fill(store.state(0), config.initialAccumulatorValue as number);
  }

  /** The global L2 norm of all gradients (f64 sums): one pass over the flat gradient buffer. */
  gradNorm(): number {
    return Math.sqrt(this.k.sumSq(this.store.grads));
  }

  /**
   * One update from the gradients. With clipNorm, the gradients are first rescaled when their
   * global norm exceeds it (torch.nn.utils.clip_grad_norm_); the norm is computed only then.
   * Returns null when the update was applied, else why it was refused (a non-finite gradient
   * norm: nothing changed) or undone (it made values non-finite: all restored).
   */
  apply(): string | null {
    const clip = this.config.clipNorm;
    if (clip > 0) {
      const norm = this.gradNorm();
      if (!Number.isFinite(norm)) return `the gradient norm became ${norm}`;
      if (norm > clip) this.k.scale(this.store.grads, clip / (norm + 1e-6)); // torch.nn.utils.clip_grad_norm_
    }
    const block = this.store.block;
    this.k.copy(block, this.backup);
    this.step++;
    this.update();
    const bad = this.k.countNonFinite(block);
    if (bad === 0) return null;
    this.k.copy(this.backup, block);
    this.step--;
    return `the update made ${bad} weights or optimizer state values non-finite (is the learning rate ${this.learningRate} too large?)`;
  }

  private update(): void {
    // numeric view of the hyperparameters (flags are booleans)
    const c = this.config as unknown as Record<string, number>;
    const st = this.store;
    const [p, g, n, lr, t] = [st.values, st.grads, st.size, this.learningRate, this.step];
    switch (this.config.type) {
      case 'sgd':
        return this.k.sgd(n, p, g, st.state(0), lr, c.momentum, c.dampening, c.weightDecay, !!c.nesterov, t);
      case 'adam':
      case 'adamw':
        return this.k.adam(n, p, g, st.state(0), st.state(1), c.amsgrad ? st.state(2) : null, lr, c.beta1, c.beta2, c.epsilon,
          c.weightDecay, this.config.type === 'adamw', t);
      case 'rmsprop':
        return this.k.rmsprop(n, p, g, st.state(0), st.state(1), st.state(2), lr, c.alpha, c.epsilon, c.weightDecay, c.momentum, !!c.centered);
      case 'adagrad':
        return this.k.adagrad(n, p, g, st.state(0), lr, c.lrDecay, c.weightDecay, c.epsilon, t);
      case 'adadelta':
        return this.k.adadelta(n, p, g, st.state(0), st.state(1), lr, c.rho, c.epsilon, c.weightDecay);
    }
  }

  /** State tensors per parameter, in the order of the parameters (for saving): views of the
   *  state buffers, slot order as torch.optim's state_dict names them. */
  stateTensors(): readonly (readonly Tensor[])[] {
    return this.store.params().map((_, i) => Array.from({ length: this.store.stateSlots }, (_, s) => this.store.stateOf(s, i)));
  }

  dispose(): void {
    this.k.arena.release(this.backup);
  }
}
