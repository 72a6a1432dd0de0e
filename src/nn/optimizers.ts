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
 * once, with its own config). An update that leaves any value or state non-finite (an
 * overflow: too large a learning rate, or non-finite gradients) is undone and reported: the
 * kernel keeps the values it overwrites in an undo area (assembly/optimizers.ts) and says
 * whether a new value is non-finite, and then the written buffers are copied back. The weights
 * never hold Infinity or NaN, and a refused step leaves them and the state bit for bit as before.
 */
export class Optimizer {
  readonly config: Resolved;
  /** Steps taken (PyTorch's `step`, from 1 at the first update). */
  step = 0;
  /** Current learning rate (schedules change it between steps). */
  learningRate: number;
  /** The block's mirror, where an update keeps the values it overwrites. */
  private readonly undo: Tensor;
  /** The parts of the block the configured update writes (values and some state buffers). */
  private readonly written: readonly Tensor[];

  constructor(private readonly k: Kernels, private readonly store: ParamStore, config: Resolved) {
    if (store.stateSlots !== stateSlots(config)) {
      throw new RuntimeError(`Optimizer: the store has ${store.stateSlots} state buffers, '${config.type}' needs ${stateSlots(config)}`);
    }
    this.config = config;
    this.learningRate = config.learningRate;
    const c = config as unknown as Record<string, number>;
    const used = [true, ...Array.from({ length: store.stateSlots }, (_, s) => {
      if (config.type === 'sgd') return c.momentum !== 0;
      if (config.type === 'rmsprop') return s === 0 || (s === 1 ? !!c.centered : c.momentum > 0);
      return true;
    })];
    this.written = used.flatMap((u, s) => (u ? [s === 0 ? store.values : store.state(s - 1)] : []));
    this.undo = k.arena.alloc(store.block.size);
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
    this.step++;
    if (this.update() === 0) return null;
    const bad = this.k.countNonFinite(this.store.block); // what is not written was finite before
    const block = this.store.block.offset;
    for (const t of this.written) this.k.copy(this.k.arena.view(this.undo, (t.offset - block) / 4, [t.size]), t);
    this.step--;
    return `the update made ${bad} weights or optimizer state values non-finite (is the learning rate ${this.learningRate} too large?)`;
  }

  /** The algorithm's kernel over the whole block; > 0 when it left a value non-finite. */
  private update(): number {
    // numeric view of the hyperparameters (flags are booleans)
    const c = this.config as unknown as Record<string, number>;
    const st = this.store;
    const [p, g, n, lr, t] = [st.values, st.grads, st.size, this.learningRate, this.step];
    switch (this.config.type) {
      case 'sgd':
        return this.k.sgd(n, p, g, st.state(0), lr, c.momentum, c.dampening, c.weightDecay, !!c.nesterov, t, this.undo);
      case 'adam':
      case 'adamw':
        return this.k.adam(n, p, g, st.state(0), st.state(1), c.amsgrad ? st.state(2) : null, lr, c.beta1, c.beta2, c.epsilon,
          c.weightDecay, this.config.type === 'adamw', t, this.undo);
      case 'rmsprop':
        return this.k.rmsprop(n, p, g, st.state(0), st.state(1), st.state(2), lr, c.alpha, c.epsilon, c.weightDecay, c.momentum, !!c.centered, this.undo);
      case 'adagrad':
        return this.k.adagrad(n, p, g, st.state(0), lr, c.lrDecay, c.weightDecay, c.epsilon, t, this.undo);
      case 'adadelta':
        return this.k.adadelta(n, p, g, st.state(0), st.state(1), lr, c.rho, c.epsilon, c.weightDecay, this.undo);
    }
  }

  /** State tensors per parameter, in the order of the parameters (for saving): views of the
   *  state buffers, slot order as torch.optim's state_dict names them. */
  stateTensors(): readonly (readonly Tensor[])[] {
    return this.store.params().map((_, i) => Array.from({ length: this.store.stateSlots }, (_, s) => this.store.stateOf(s, i)));
  }

  dispose(): void {
    this.k.arena.release(this.undo);
  }
}
