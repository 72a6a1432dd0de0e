import { RuntimeError } from '../errors.js';
import type { Arena, Tensor } from './memory.js';

/** Activation ids, mirrored from assembly/activations.ts. */
export const ACTIVATIONS = {
  linear: 0,
  relu: 1,
  leakyRelu: 2,
  elu: 3,
  sigmoid: 4,
  tanh: 5,
  softplus: 6,
  gelu: 7,
} as const;
export type ActivationName = keyof typeof ACTIVATIONS;
/** PyTorch's defaults for the activations that take a parameter. */
export const DEFAULT_ALPHA: Partial<Record<ActivationName, number>> = { leakyRelu: 0.01, elu: 1 };

export type GemmVariant = 'nn' | 'nt' | 'tn';
export type LossKind = 'mse' | 'l1' | 'bceLogits';

/**
 * Typed wrappers over the core's exports. Each checks that the tensors are large enough for the
 * sizes given (a kernel on raw pointers would otherwise read or write past them) and nothing
 * more: what the sizes mean is the caller's business.
 */
export class Kernels {
  constructor(readonly arena: Arena) {}

  /** C[m×n] = (accumulate ? C : 0) + op(A)·op(B); 'nt' reads B as [n×k], 'tn' reads A as [k×m]. */
  gemm(variant: GemmVariant, m: number, n: number, k: number, a: Tensor, b: Tensor, c: Tensor, accumulate = false): void {
    fits(a, m * k, 'gemm A');
    fits(b, k * n, 'gemm B');
    fits(c, m * n, 'gemm C');
    const ex = this.arena.ex;
    const f = variant === 'nn' ? ex.f32_gemm_nn : variant === 'nt' ? ex.f32_gemm_nt : ex.f32_gemm_tn;
    f(m, n, k, a.offset, b.offset, c.offset, accumulate ? 1 : 0);
  }

  /** Floats taken by the panels of an [n×k] B (packNtPanels). */
  ntPanelsSize(n: number, k: number): number {
    return Math.ceil(n / 32) * 32 * k;
  }

  /** Packs B [n×k] into panels for gemmNtPanels; repack whenever B changes. */
  packNtPanels(n: number, k: number, b: Tensor, panels: Tensor): void {
    fits(b, n * k, 'packNtPanels B');
    fits(panels, this.ntPanelsSize(n, k), 'packNtPanels panels');
    this.arena.ex.f32_pack_nt_panels(n, k, b.offset, panels.offset);
  }

  /** gemm('nt', m, n, k, a, B, c) from B's panels: the same bits, faster for small m. */
  gemmNtPanels(m: number, n: number, k: number, a: Tensor, panels: Tensor, c: Tensor, accumulate = false): void {
    fits(a, m * k, 'gemm A');
    fits(panels, this.ntPanelsSize(n, k), 'gemm panels');
    fits(c, m * n, 'gemm C');
    this.arena.ex.f32_gemm_nt_panels(m, n, k, a.offset, panels.offset, c.offset, accumulate ? 1 : 0);
  }

  /** z += bias (per column), then y = f(z): a dense layer's epilogue. y may be z. */
  biasAct(act: number, alpha: number, z: Tensor, bias: Tensor, y: Tensor, m: number, n: number): void {
    fits(z, m * n, 'biasAct z');
    fits(y, m * n, 'biasAct y');
    fits(bias, n, 'biasAct bias');
    this.arena.ex.f32_bias_act(act, alpha, z.offset, bias.offset, y.offset, m, n);
  }

  actForward(act: number, alpha: number, x: Tensor, y: Tensor, n: number): void {
    fits(x, n, 'act x');
    fits(y, n, 'act y');
    this.arena.ex.f32_act_forward(act, alpha, x.offset, y.offset, n);
  }

  /** dx = dy ⊙ f'(x), from the pre-activation x and output y; dx may be dy. */
  actBackward(act: number, alpha: number, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, n: number): void {
    for (const [t, w] of [[x, 'x'], [y, 'y'], [dy, 'dy'], [dx, 'dx']] as const) fits(t, n, `actBackward ${w}`);
    this.arena.ex.f32_act_backward(act, alpha, x.offset, y.offset, dy.offset, dx.offset, n);
  }

  /** out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j]. */
  colSum(x: Tensor, out: Tensor, m: number, n: number, accumulate = false): void {
    fits(x, m * n, 'colSum x');
    fits(out, n, 'colSum out');
    this.arena.ex.f32_col_sum(x.offset, out.offset, m, n, accumulate ? 1 : 0);
  }

  /** The loss summed over n values; with grad, also grad = gscale·∂loss/∂pred. */
  loss(kind: LossKind, pred: Tensor, target: Tensor, grad: Tensor | null, n: number, gscale: number): number {
    fits(pred, n, 'loss pred');
    fits(target, n, 'loss target');
    if (grad) fits(grad, n, 'loss grad');
    const ex = this.arena.ex;
    const f = kind === 'mse' ? ex.f32_loss_mse : kind === 'l1' ? ex.f32_loss_l1 : ex.f32_loss_bce_logits;
    return f(pred.offset, target.offset, grad ? grad.offset : 0, n, gscale);
  }

  /** out[i] = mean_j (pred[i, j] − target[i, j])². */
  rowMse(pred: Tensor, target: Tensor, out: Tensor, m: number, n: number): void {
    fits(pred, m * n, 'rowMse pred');
    fits(target, m * n, 'rowMse target');
    fits(out, m, 'rowMse out');
    this.arena.ex.f32_row_mse(pred.offset, target.offset, out.offset, m, n);
  }

  sumSq(x: Tensor, n = x.size): number {
    fits(x, n, 'sumSq x');
    return this.arena.ex.f32_sum_sq(n, x.offset);
  }

  scale(x: Tensor, alpha: number, n = x.size): void {
    fits(x, n, 'scale x');
    this.arena.ex.f32_scale(n, alpha, x.offset);
  }

  fill(x: Tensor, value: number, n = x.size): void {
    fits(x, n, 'fill x');
    this.arena.ex.f32_fill(n, value, x.offset);
  }

  countNonFinite(x: Tensor, n = x.size): number {
    fits(x, n, 'countNonFinite x');
    return this.arena.ex.f32_count_nonfinite(n, x.offset);
  }
}

function fits(t: Tensor, need: number, what: string): void {
  if (need > t.size) throw new RuntimeError(`${what}: needs ${need} elements, the tensor has ${t.size}`);
}
