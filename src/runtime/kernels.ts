import { RuntimeError } from '../errors.js';
import { ACTIVATIONS, type ActivationName } from './abi.js';
import type { Arena, Tensor } from './memory.js';

// The activation ids live in the kernel table (abi.ts); nn/ and models/ import them from here.
export { ACTIVATIONS, type ActivationName };
/** PyTorch's defaults for the activations that take a parameter. */
export const DEFAULT_ALPHA: Partial<Record<ActivationName, number>> = { leakyRelu: 0.01, elu: 1 };

export type GemmVariant = 'nn' | 'nt' | 'tn';

/**
 * A 2-D window over NCHW samples [c, h, w]: kernel kh×kw, stride, zero padding and dilation,
 * and the output size oh×ow it produces (a conv's output, or a transposed conv's input).
 */
export interface ConvGeometry {
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  oh: number;
  ow: number;
}
export type LossKind = 'mse' | 'l1' | 'bceLogits';
/** What a loss reads of the output layer: its output and, for 'bceLogits', its logits too. */
export interface LossInput {
  readonly output: Tensor;
  readonly preActivation: Tensor;
}

/** A seeded generator: its state block (8 slots: key, counter) lives in linear memory (rng.ts). */
export interface Generator {
  readonly state: Tensor;
}
/** Slots of a generator's state block (assembly/random.ts: 2 key + 4 counter + 2 spare u32). */
export const GENERATOR_STATE_SIZE = 8;

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
    fits(x, n, 'actBackward x');
    fits(y, n, 'actBackward y');
    fits(dy, n, 'actBackward dy');
    fits(dx, n, 'actBackward dx');
    this.arena.ex.f32_act_backward(act, alpha, x.offset, y.offset, dy.offset, dx.offset, n);
  }

  /** out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j]. */
  colSum(x: Tensor, out: Tensor, m: number, n: number, accumulate = false): void {
    fits(x, m * n, 'colSum x');
    fits(out, n, 'colSum out');
    this.arena.ex.f32_col_sum(x.offset, out.offset, m, n, accumulate ? 1 : 0);
  }

  /**
   * The loss of rows × cols outputs, summed; with grad, also grad = gscale·∂loss/∂output, or
   * ∂loss/∂logits for 'bceLogits' (BCE of a sigmoid output, from the logits and the sigmoid the
   * forward pass computed: grad = gscale·(σ − t)).
   */
  loss(kind: LossKind, out: LossInput, target: Tensor, grad: Tensor | null, rows: number, cols: number, gscale: number): number {
    const n = rows * cols;
    fits(out.output, n, 'loss output');
    fits(target, n, 'loss target');
    if (grad) fits(grad, n, 'loss grad');
    const ex = this.arena.ex;
    const g = grad ? grad.offset : 0;
    if (kind === 'bceLogits') {
      fits(out.preActivation, n, 'loss logits');
      return ex.f32_loss_bce_sigmoid(out.preActivation.offset, out.output.offset, target.offset, g, rows, cols, gscale);
    }
    return (kind === 'mse' ? ex.f32_loss_mse : ex.f32_loss_l1)(out.output.offset, target.offset, g, n, gscale);
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

  /** y += alpha·x. */
  axpy(alpha: number, x: Tensor, y: Tensor, n = x.size): void {
    fits(x, n, 'axpy x');
    fits(y, n, 'axpy y');
    this.arena.ex.f32_axpy(n, alpha, x.offset, y.offset);
  }

  copy(src: Tensor, dst: Tensor, n = src.size): void {
    fits(src, n, 'copy src');
    fits(dst, n, 'copy dst');
    this.arena.ex.f32_copy(n, src.offset, dst.offset);
  }

  /** x = min(max(x, lo), hi), in place; returns how many x were NaN or ±Infinity before. */
  clamp(x: Tensor, lo: number, hi: number, n = x.size): number {
    fits(x, n, 'clamp x');
    return this.arena.ex.f32_clamp(n, lo, hi, x.offset);
  }

  /** y[i, j] += bias[j] for an [m×n] y. */
  biasAdd(y: Tensor, bias: Tensor, m: number, n: number): void {
    fits(y, m * n, 'biasAdd y');
    fits(bias, n, 'biasAdd bias');
    this.arena.ex.f32_bias_add(y.offset, bias.offset, m, n);
  }

  /** out = a ⊙ b. */
  mul(a: Tensor, b: Tensor, out: Tensor, n: number): void {
    for (const [t, w] of [[a, 'a'], [b, 'b'], [out, 'out']] as const) fits(t, n, `mul ${w}`);
    this.arena.ex.f32_mul(n, a.offset, b.offset, out.offset);
  }

  /** Σ KL(N(μ, σ²) ‖ N(0, 1)) over n values; with gradients, gmu/glogvar = gscale·∂/∂(μ, log σ²). */
  klNormal(mu: Tensor, logVar: Tensor, gmu: Tensor | null, glogVar: Tensor | null, n: number, gscale: number): number {
    fits(mu, n, 'klNormal mu');
    fits(logVar, n, 'klNormal logVar');
    if (gmu) fits(gmu, n, 'klNormal gmu');
    if (glogVar) fits(glogVar, n, 'klNormal glogVar');
    if (!gmu !== !glogVar) throw new RuntimeError('klNormal: give both gradients or neither');
    return this.arena.ex.f32_loss_kl_normal(mu.offset, logVar.offset, gmu ? gmu.offset : 0, glogVar ? glogVar.offset : 0, n, gscale);
  }

  /** Σ |z| over n values; with grad, grad += gscale·sign(z). */
  penaltyL1(z: Tensor, grad: Tensor | null, n: number, gscale: number): number {
    fits(z, n, 'penaltyL1 z');
    if (grad) fits(grad, n, 'penaltyL1 grad');
    return this.arena.ex.f32_penalty_l1(z.offset, grad ? grad.offset : 0, n, gscale);
  }

  /** weight·Σ_j KL(ρ ‖ colSum[j]/m) over n units; with d, d[j] = its gradient for each row. */
  penaltyKlSparsity(colSum: Tensor, d: Tensor | null, n: number, m: number, rho: number, weight: number): number {
    fits(colSum, n, 'penaltyKlSparsity colSum');
    if (d) fits(d, n, 'penaltyKlSparsity d');
    return this.arena.ex.f32_penalty_kl_sparsity(colSum.offset, d ? d.offset : 0, n, m, rho, weight);
  }

  // ---- the generator (assembly/random.ts): one call of its stream each ----

  /** Seeds a state block from a non-negative safe integer (its low and high 32 bits). */
  rngSeed(rng: Generator, seed: number): void {
    fits(rng.state, GENERATOR_STATE_SIZE, 'rngSeed state');
    this.arena.ex.rng_seed(rng.state.offset, seed >>> 0, Math.floor(seed / 4294967296) >>> 0);
  }

  /** out = n draws from U[lo, hi). */
  randUniform(rng: Generator, out: Tensor, n: number, lo: number, hi: number): void {
    fits(out, n, 'randUniform out');
    this.arena.ex.f32_rand_uniform(statePtr(rng), out.offset, n, lo, hi);
  }

  /** out = n draws from N(mean, std²). */
  randNormal(rng: Generator, out: Tensor, n: number, mean: number, std: number): void {
    fits(out, n, 'randNormal out');
    this.arena.ex.f32_rand_normal(statePtr(rng), out.offset, n, mean, std);
  }

  /** out (i32) = a uniformly random permutation of 0..n−1. */
  randPermutation(rng: Generator, out: Tensor, n: number): void {
    fits(out, n, 'randPermutation out');
    this.arena.ex.rand_permutation(statePtr(rng), out.offset, n);
  }

  // ---- noise (assembly/noise.ts): one call of rng's stream each ----

  /** out = clamp(x + std·ε, lo, hi), ε ~ N(0, 1). */
  corruptGaussian(rng: Generator, x: Tensor, out: Tensor, n: number, std: number, lo: number, hi: number): void {
    fits(x, n, 'corruptGaussian x');
    fits(out, n, 'corruptGaussian out');
    this.arena.ex.f32_corrupt_gaussian(statePtr(rng), x.offset, out.offset, n, std, lo, hi);
  }

  /** out = x with each value zeroed with probability p. */
  corruptMask(rng: Generator, x: Tensor, out: Tensor, n: number, p: number): void {
    fits(x, n, 'corruptMask x');
    fits(out, n, 'corruptMask out');
    this.arena.ex.f32_corrupt_mask(statePtr(rng), x.offset, out.offset, n, p);
  }

  /** out = x with each value set to lo (probability p/2) or hi (p/2). */
  corruptSaltPepper(rng: Generator, x: Tensor, out: Tensor, n: number, p: number, lo: number, hi: number): void {
    fits(x, n, 'corruptSaltPepper x');
    fits(out, n, 'corruptSaltPepper out');
    this.arena.ex.f32_corrupt_salt_pepper(statePtr(rng), x.offset, out.offset, n, p, lo, hi);
  }

  /** Inverted dropout: mask = Bernoulli(1 − p)/(1 − p), y = x ⊙ mask. */
  dropout(rng: Generator, x: Tensor, mask: Tensor, y: Tensor, n: number, p: number): void {
    for (const [t, w] of [[x, 'x'], [mask, 'mask'], [y, 'y']] as const) fits(t, n, `dropout ${w}`);
    this.arena.ex.f32_dropout(statePtr(rng), x.offset, mask.offset, y.offset, n, p);
  }

  /** eps ~ N(0, 1), z = μ + exp(½ log σ²)·eps. */
  reparameterize(rng: Generator, mu: Tensor, logVar: Tensor, eps: Tensor, z: Tensor, n: number): void {
    for (const [t, w] of [[mu, 'mu'], [logVar, 'logVar'], [eps, 'eps'], [z, 'z']] as const) fits(t, n, `reparameterize ${w}`);
    this.arena.ex.f32_reparameterize(statePtr(rng), mu.offset, logVar.offset, eps.offset, z.offset, n);
  }

  /** dmu += dz; dlogVar += dz·eps·½·exp(½ log σ²). */
  reparameterizeBackward(dz: Tensor, logVar: Tensor, eps: Tensor, dmu: Tensor, dlogVar: Tensor, n: number): void {
    for (const [t, w] of [[dz, 'dz'], [logVar, 'logVar'], [eps, 'eps'], [dmu, 'dmu'], [dlogVar, 'dlogVar']] as const) {
      fits(t, n, `reparameterizeBackward ${w}`);
    }
    this.arena.ex.f32_reparameterize_backward(dz.offset, logVar.offset, eps.offset, dmu.offset, dlogVar.offset, n);
  }

  countNonFinite(x: Tensor, n = x.size): number {
    fits(x, n, 'countNonFinite x');
    return this.arena.ex.f32_count_nonfinite(n, x.offset);
  }

  /**
   * col = im2col(x [batch, c, h, w]), laid out per sample [batch, c·kh·kw, oh·ow] or, with
   * `batched`, [c·kh·kw, batch·oh·ow]: one GEMM then covers the whole batch.
   */
  im2col(x: Tensor, col: Tensor, batch: number, g: ConvGeometry, batched = false): void {
    fits(x, batch * g.c * g.h * g.w, 'im2col x');
    fits(col, batch * g.c * g.kh * g.kw * g.oh * g.ow, 'im2col col');
    const [rs, ss] = colStrides(batch, g, batched);
    this.arena.ex.f32_im2col(x.offset, col.offset, batch, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow, rs, ss);
  }

  /** x = (accumulate ? x : 0) + col2im(col): the adjoint of im2col (the same layouts). */
  col2im(col: Tensor, x: Tensor, batch: number, g: ConvGeometry, batched = false, accumulate = false): void {
    fits(x, batch * g.c * g.h * g.w, 'col2im x');
    fits(col, batch * g.c * g.kh * g.kw * g.oh * g.ow, 'col2im col');
    const [rs, ss] = colStrides(batch, g, batched);
    this.arena.ex.f32_col2im(col.offset, x.offset, batch, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow,
      rs, ss, accumulate ? 1 : 0);
  }

  /** dst [d1, d0, inner] = src [d0, d1, inner] with the outer axes swapped; no overlap. */
  swapBlocks(src: Tensor, dst: Tensor, d0: number, d1: number, inner: number): void {
    fits(src, d0 * d1 * inner, 'swapBlocks src');
    fits(dst, d0 * d1 * inner, 'swapBlocks dst');
    this.arena.ex.f32_swap_blocks(src.offset, dst.offset, d0, d1, inner);
  }

  /** Max pooling of `batch` samples; idx (i32) records each maximum's position in its plane. */
  maxPool(x: Tensor, y: Tensor, idx: Tensor, batch: number, g: ConvGeometry): void {
    const planes = batch * g.c;
    fits(x, planes * g.h * g.w, 'maxPool x');
    fits(y, planes * g.oh * g.ow, 'maxPool y');
    fits(idx, planes * g.oh * g.ow, 'maxPool idx');
    this.arena.ex.f32_maxpool2d(x.offset, y.offset, idx.offset, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow);
  }

  maxPoolBackward(dy: Tensor, idx: Tensor, dx: Tensor, batch: number, g: ConvGeometry): void {
    const planes = batch * g.c;
    fits(dy, planes * g.oh * g.ow, 'maxPoolBackward dy');
    fits(idx, planes * g.oh * g.ow, 'maxPoolBackward idx');
    fits(dx, planes * g.h * g.w, 'maxPoolBackward dx');
    this.arena.ex.f32_maxpool2d_backward(dy.offset, idx.offset, dx.offset, planes, g.h, g.w, g.oh, g.ow);
  }

  avgPool(x: Tensor, y: Tensor, batch: number, g: ConvGeometry): void {
    const planes = batch * g.c;
    fits(x, planes * g.h * g.w, 'avgPool x');
    fits(y, planes * g.oh * g.ow, 'avgPool y');
    this.arena.ex.f32_avgpool2d(x.offset, y.offset, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow);
  }

  avgPoolBackward(dy: Tensor, dx: Tensor, batch: number, g: ConvGeometry): void {
    const planes = batch * g.c;
    fits(dy, planes * g.oh * g.ow, 'avgPoolBackward dy');
    fits(dx, planes * g.h * g.w, 'avgPoolBackward dx');
    this.arena.ex.f32_avgpool2d_backward(dy.offset, dx.offset, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow);
  }

  /** Upsampling of `planes` [h×w] planes by integer factors fh, fw ('nearest' or 'bilinear'). */
  upsample(mode: 'nearest' | 'bilinear', x: Tensor, y: Tensor, planes: number, h: number, w: number, fh: number, fw: number): void {
    fits(x, planes * h * w, 'upsample x');
    fits(y, planes * h * fh * w * fw, 'upsample y');
    const ex = this.arena.ex;
    if (mode === 'nearest') ex.f32_upsample_nearest2d(x.offset, y.offset, planes, h, w, fh, fw);
    else ex.f32_upsample_bilinear2d(x.offset, y.offset, planes, h, w, h * fh, w * fw, 1 / fh, 1 / fw);
  }

  upsampleBackward(mode: 'nearest' | 'bilinear', dy: Tensor, dx: Tensor, planes: number, h: number, w: number, fh: number, fw: number): void {
    fits(dx, planes * h * w, 'upsampleBackward dx');
    fits(dy, planes * h * fh * w * fw, 'upsampleBackward dy');
    const ex = this.arena.ex;
    if (mode === 'nearest') ex.f32_upsample_nearest2d_backward(dy.offset, dx.offset, planes, h, w, fh, fw);
    else ex.f32_upsample_bilinear2d_backward(dy.offset, dx.offset, planes, h, w, h * fh, w * fw, 1 / fh, 1 / fw);
  }

  /** z [batch, c, hw] += bias[c] (per channel), then y = f(z): a conv layer's epilogue. y may be z. */
  biasChannelsAct(act: number, alpha: number, z: Tensor, bias: Tensor, y: Tensor, batch: number, c: number, hw: number): void {
    fits(z, batch * c * hw, 'biasChannelsAct z');
    fits(y, batch * c * hw, 'biasChannelsAct y');
    fits(bias, c, 'biasChannelsAct bias');
    this.arena.ex.f32_bias_channels_act(act, alpha, z.offset, bias.offset, y.offset, batch, c, hw);
  }

  // ---- optimizer updates (assembly/optimizers.ts): p, its gradient g and the state buffers,
  // n values each, updated in place; flags are passed as 0/1 and `step` counts from 1. `undo`
  // mirrors memory from p on: each value the update overwrites is first stored at the same
  // place in it. Each returns a count > 0 exactly when a new value is NaN or ±Infinity (then
  // copy the written buffers back from `undo`) ----

  /** torch.optim.SGD: momentum buffer `buf`. */
  sgd(n: number, p: Tensor, g: Tensor, buf: Tensor, lr: number, momentum: number, dampening: number, weightDecay: number,
    nesterov: boolean, step: number, undo: Tensor): number {
    for (const [t, w] of [[p, 'p'], [g, 'g'], [buf, 'buf']] as const) fits(t, n, `sgd ${w}`);
    const d = undoDisplacement(n, p, [buf], undo, 'sgd');
    return this.arena.ex.f32_sgd(n, p.offset, g.offset, buf.offset, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, step, d);
  }

  /** torch.optim.Adam / AdamW (decoupled): moments m, v, and vmax only with AMSGrad (else null). */
  adam(n: number, p: Tensor, g: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, lr: number, beta1: number, beta2: number,
    epsilon: number, weightDecay: number, decoupled: boolean, step: number, undo: Tensor): number {
    for (const [t, w] of [[p, 'p'], [g, 'g'], [m, 'm'], [v, 'v']] as const) fits(t, n, `adam ${w}`);
    if (vmax) fits(vmax, n, 'adam vmax');
    const d = undoDisplacement(n, p, vmax ? [m, v, vmax] : [m, v], undo, 'adam');
    // the kernel touches vmax only when amsgrad = 1
    return this.arena.ex.f32_adam(n, p.offset, g.offset, m.offset, v.offset, vmax ? vmax.offset : 0, lr, beta1, beta2, epsilon,
      weightDecay, decoupled ? 1 : 0, vmax ? 1 : 0, step, d);
  }

  /** torch.optim.RMSprop: square average, gradient average (centered) and momentum buffer. */
  rmsprop(n: number, p: Tensor, g: Tensor, sq: Tensor, gavg: Tensor, buf: Tensor, lr: number, alpha: number, epsilon: number,
    weightDecay: number, momentum: number, centered: boolean, undo: Tensor): number {
    for (const [t, w] of [[p, 'p'], [g, 'g'], [sq, 'sq'], [gavg, 'gavg'], [buf, 'buf']] as const) fits(t, n, `rmsprop ${w}`);
    const d = undoDisplacement(n, p, [sq, gavg, buf], undo, 'rmsprop');
    return this.arena.ex.f32_rmsprop(n, p.offset, g.offset, sq.offset, gavg.offset, buf.offset, lr, alpha, epsilon, weightDecay,
      momentum, centered ? 1 : 0, d);
  }

  /** torch.optim.Adagrad: accumulated squares `sum`. */
  adagrad(n: number, p: Tensor, g: Tensor, sum: Tensor, lr: number, lrDecay: number, weightDecay: number, epsilon: number,
    step: number, undo: Tensor): number {
    for (const [t, w] of [[p, 'p'], [g, 'g'], [sum, 'sum']] as const) fits(t, n, `adagrad ${w}`);
    const d = undoDisplacement(n, p, [sum], undo, 'adagrad');
    return this.arena.ex.f32_adagrad(n, p.offset, g.offset, sum.offset, lr, lrDecay, weightDecay, epsilon, step, d);
  }

  /** torch.optim.Adadelta: square average and accumulated deltas. */
  adadelta(n: number, p: Tensor, g: Tensor, sq: Tensor, accDelta: Tensor, lr: number, rho: number, epsilon: number,
    weightDecay: number, undo: Tensor): number {
    for (const [t, w] of [[p, 'p'], [g, 'g'], [sq, 'sq'], [accDelta, 'accDelta']] as const) fits(t, n, `adadelta ${w}`);
    const d = undoDisplacement(n, p, [sq, accDelta], undo, 'adadelta');
    return this.arena.ex.f32_adadelta(n, p.offset, g.offset, sq.offset, accDelta.offset, lr, rho, epsilon, weightDecay, d);
  }

  /** out[c] = (accumulate ? out[c] : 0) + Σ_b Σ_p x[b, c, p]. */
  channelSum(x: Tensor, out: Tensor, batch: number, c: number, hw: number, accumulate = false): void {
    fits(x, batch * c * hw, 'channelSum x');
    fits(out, c, 'channelSum out');
    this.arena.ex.f32_channel_sum(x.offset, out.offset, batch, c, hw, accumulate ? 1 : 0);
  }

  // ---- int8 inference (assembly/int8.ts): k is padded to even (kp) for the pairs dot_i16x8_s sums ----

  /** 4-byte slots of the i16 activations of m rows of k values (quantizeRows' q). */
  i8RowsSize(m: number, k: number): number {
    return (m * evenUp(k)) / 2;
  }

  /** 4-byte slots of the panels of an int8 W [n×k] (packI8Panels). */
  i8PanelsSize(n: number, k: number): number {
    return (Math.ceil(n / 8) * 8 * evenUp(k)) / 4;
  }

  /**
   * Packs an int8 W [n×k] (PyTorch's [out, in], row-major) into the 8-column panels gemmI8 reads
   * (layout: assembly/int8.ts). Done once per model, so in TypeScript.
   */
  packI8Panels(n: number, k: number, w: Int8Array, panels: Tensor): void {
    if (w.length !== n * k) throw new RuntimeError(`packI8Panels: W has ${w.length} values, expected ${n}×${k}`);
    fits(panels, this.i8PanelsSize(n, k), 'packI8Panels panels');
    const kp = evenUp(k);
    const out = new Int8Array(this.arena.bytes(panels).buffer, panels.offset, this.i8PanelsSize(n, k) * 4);
    out.fill(0);
    for (let j = 0; j < n; j++) {
      const base = (j >> 3) * 8 * kp + ((j & 7) >> 2) * 8 + (j & 3) * 2;
      for (let p = 0; p < k; p++) out[base + (p >> 1) * 16 + (p & 1)] = w[j * k + p];
    }
  }

  /** q (i16 [m×kp]) = x (f32 [m×k]) quantized per row; scales[i] = fixedScale > 0, else max|x[i, :]|/127. */
  quantizeRows(x: Tensor, q: Tensor, scales: Tensor, m: number, k: number, fixedScale = 0): void {
    fits(x, m * k, 'quantizeRows x');
    fits(q, this.i8RowsSize(m, k), 'quantizeRows q');
    fits(scales, m, 'quantizeRows scales');
    this.arena.ex.i8_quantize_rows(x.offset, q.offset, scales.offset, m, k, evenUp(k), fixedScale);
  }

  /** c (f32 [m×n]) = ((f32(a·Wᵀ) · sa[i]) · sw[j]) + bias[j], exact i32 sums; a from quantizeRows, W from packI8Panels. */
  gemmI8(m: number, n: number, k: number, a: Tensor, panels: Tensor, sa: Tensor, sw: Tensor, bias: Tensor, c: Tensor): void {
    fits(a, this.i8RowsSize(m, k), 'gemmI8 a');
    fits(panels, this.i8PanelsSize(n, k), 'gemmI8 panels');
    fits(sa, m, 'gemmI8 sa');
    fits(sw, n, 'gemmI8 sw');
    fits(bias, n, 'gemmI8 bias');
    fits(c, m * n, 'gemmI8 c');
    this.arena.ex.i8_gemm_panels(m, n, evenUp(k), a.offset, panels.offset, sa.offset, sw.offset, bias.offset, c.offset);
  }
}

const evenUp = (k: number): number => k + (k & 1);

/** [rowStride, sampleStride] of a column matrix, per sample or batched (assembly/conv.ts). */
function colStrides(batch: number, g: ConvGeometry, batched: boolean): [number, number] {
  const ohw = g.oh * g.ow;
  return batched ? [batch * ohw, ohw] : [ohw, g.c * g.kh * g.kw * ohw];
}

/**
 * The byte displacement from an optimizer's buffers to their undo copies: `undo` mirrors memory
 * from p on, so p and every state buffer the update writes must lie within that span of it.
 */
function undoDisplacement(n: number, p: Tensor, state: readonly Tensor[], undo: Tensor, what: string): number {
  for (const t of [p, ...state]) {
    const at = (t.offset - p.offset) / 4;
    if (at < 0 || at + n > undo.size) throw new RuntimeError(`${what} undo: a buffer at ${at} values from p does not fit the undo area of ${undo.size} values`);
  }
  return undo.offset - p.offset;
}

/** The generator's state block, checked to be one. */
function statePtr(rng: Generator): number {
  fits(rng.state, GENERATOR_STATE_SIZE, 'generator state');
  return rng.state.offset;
}

function fits(t: Tensor, need: number, what: string): void {
  if (need > t.size) throw new RuntimeError(`${what}: needs ${need} elements, the tensor has ${t.size}`);
}
