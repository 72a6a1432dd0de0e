import { checkKeys } from '../data.js';
import { InputError } from '../errors.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Param } from './layers.js';

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

/**
 * Applies one algorithm's fused update kernel to every parameter. State tensors (moments,
 * buffers) live in linear memory beside the weights. `step()` first measures the global
 * gradient norm: non-finite gradients are refused before any weight changes.
 */
export class Optimizer {
  readonly config: Resolved;
  /** Steps taken (PyTorch's `step`, from 1 at the first update). */
  step = 0;
  /** Current learning rate (schedules change it between steps). */
  learningRate: number;
  private readonly state: Tensor[][];

  constructor(private readonly k: Kernels, private readonly params: readonly Param[], config: OptimizerConfig | OptimizerName | undefined) {
    this.config = resolveOptimizer(config);
    this.learningRate = this.config.learningRate;
    const slots = { sgd: 1, adam: 3, adamw: 3, rmsprop: 3, adagrad: 1, adadelta: 2 }[this.config.type as OptimizerName];
    this.state = params.map((p) => Array.from({ length: slots }, () => k.arena.alloc(p.value.size)));
    if (this.config.type === 'adagrad' && this.config.initialAccumulatorValue) {
      for (const s of this.state) k.fill(s[0], this.config.initialAccumulatorValue as number);
    }
  }

  /** The global L2 norm of all gradients (f64 sums). */
  gradNorm(): number {
    let s = 0;
    for (const p of this.params) s += this.k.sumSq(p.grad);
    return Math.sqrt(s);
  }

  /**
   * One update from the gradients in place. Returns the gradient norm before clipping; if it is
   * not finite, nothing is updated and the caller gets NaN/Infinity to report.
   */
  apply(): number {
    const norm = this.gradNorm();
    if (!Number.isFinite(norm)) return norm;
    const clip = this.config.clipNorm;
    if (clip > 0 && norm > clip) {
      const f = clip / (norm + 1e-6); // torch.nn.utils.clip_grad_norm_
      for (const p of this.params) this.k.scale(p.grad, f);
    }
    this.step++;
    // numeric view of the hyperparameters; flags arrive as booleans and are passed as 0/1
    const c = this.config as unknown as Record<string, number>;
    const ex = this.k.arena.ex;
    const lr = this.learningRate;
    for (let i = 0; i < this.params.length; i++) {
      const { value: p, grad: g } = this.params[i];
      const s = this.state[i];
      const n = p.size;
      switch (this.config.type) {
        case 'sgd':
          ex.f32_sgd(n, p.offset, g.offset, s[0].offset, lr, c.momentum, c.dampening, c.weightDecay, c.nesterov ? 1 : 0, this.step);
          break;
        case 'adam':
        case 'adamw':
          ex.f32_adam(n, p.offset, g.offset, s[0].offset, s[1].offset, s[2].offset, lr, c.beta1, c.beta2, c.epsilon,
            c.weightDecay, this.config.type === 'adamw' ? 1 : 0, c.amsgrad ? 1 : 0, this.step);
          break;
        case 'rmsprop':
          ex.f32_rmsprop(n, p.offset, g.offset, s[0].offset, s[1].offset, s[2].offset, lr, c.alpha, c.epsilon,
            c.weightDecay, c.momentum, c.centered ? 1 : 0);
          break;
        case 'adagrad':
          ex.f32_adagrad(n, p.offset, g.offset, s[0].offset, lr, c.lrDecay, c.weightDecay, c.epsilon, this.step);
          break;
        case 'adadelta':
          ex.f32_adadelta(n, p.offset, g.offset, s[0].offset, s[1].offset, lr, c.rho, c.epsilon, c.weightDecay);
          break;
      }
    }
    return norm;
  }

  /** State tensors per parameter, in the order of the parameters (for saving). */
  stateTensors(): readonly (readonly Tensor[])[] {
    return this.state;
  }

  dispose(): void {
    for (const s of this.state) for (const t of s) this.k.arena.release(t);
  }
}
