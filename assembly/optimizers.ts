// Fused, in-place optimizer updates with PyTorch's semantics (torch.optim, 2.x; `maximize`,
// `foreach`, `capturable` and `differentiable` do not apply here).
//
// p: parameters, g: gradients (never written), the rest: optimizer state tensors of p's size.
// `step` counts from 1. Hyperparameters arrive as f64 (JS numbers, like Python floats): every
// scalar derived from them (1 − β1, lr / bc1, 1 − lr·wd, …) is computed in f64 as torch.optim
// computes it in Python, then rounded once to f32, as ATen does when such a scalar meets a float
// tensor. The elementwise arithmetic then follows the ATen op sequence of torch.optim's
// single-tensor path (lerp_, mul_().addcmul_(), addcdiv_(), …) in f32, unfused: ATen's own
// vectorized CPU loops may use FMA, so bit equality with PyTorch itself is not promised; equality
// between engines is (strict build: these kernels never use relaxed SIMD).
//
// Each kernel defines its arithmetic once, as an @inline function on f32x4; the last n mod 4
// elements run through that same function (loaded into the low lanes of a vector), so an
// element's result never depends on its position.
//
// Undo log: every kernel returns a count that is > 0 exactly when one of the new values
// (parameters and state) is NaN or ±Infinity (see `emit`; the exact number is a separate pass,
// for the error message only), and before it overwrites a value it stores the old one `undo`
// bytes further on
// (the caller's undo area mirrors the buffers: for a model's flat block [values | state…], one
// displacement serves them all). A caller that gets a count > 0 copies the undo area back: the
// weights and state are then bit for bit those before the update. The old values are in
// registers anyway, so the log costs stores only: it replaces a copy of the block before the
// update and a count over it after (two extra passes; 5.2 MB each for Adam on the card's model).
// A counting pass followed by a writing pass (check, then write) was measured too: Adam is
// bound by its two divisions and square root, and computing them twice cost more than the copy.
// Each kernel is elementwise over (n, pointers) and its result an integer count (order-free),
// so a caller may split [0, n) into ranges and add the counts: the threaded builds do
// (parallel.ts).

import { loadLanes, storeLanes } from './simd';
import { parallelAdadelta, parallelAdagrad, parallelAdam, parallelRmsprop, parallelSgd } from './parallel';

/** acc + the first k lanes of bad; lanes ≥ k of a tail hold no element and may compute
 *  anything (0/0 with ε = 0), so they are dropped. */
// @ts-ignore: decorator
@inline function tally(acc: v128, bad: v128, k: i32): v128 {
  if (k == 4) return f32x4.add(acc, bad);
  return f32x4.add(acc, v128.and(bad, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(k))));
}

/**
 * Stores lanes 0…k−1 of `old` at p + undo and of `v` at p. Returns v − v: 0 in a lane where v is
 * finite, NaN where it is NaN or ±Infinity. Summed over a kernel's values, a lane ends NaN if
 * and only if one of its values was non-finite (NaN absorbs every sum, and sums of zeros stay
 * 0 in any order), for two float ops per value and no constant.
 */
// @ts-ignore: decorator
@inline function emit(undo: usize, p: usize, old: v128, v: v128, k: i32): v128 {
  storeLanes(p + undo, old, k);
  storeLanes(p, v, k);
  return f32x4.sub(v, v);
}

/** How many lanes of acc are NaN (0…4): > 0 exactly when some new value was non-finite. */
// @ts-ignore: decorator
@inline function flagged(acc: v128): i32 {
  const nan = f32x4.ne(acc, acc); // −1 in a NaN lane
  return -(i32x4.extract_lane(nan, 0) + i32x4.extract_lane(nan, 1) + i32x4.extract_lane(nan, 2) +
    i32x4.extract_lane(nan, 3));
}


/** ATen's lerp(self, end, w) for a scalar weight: self + w·(end − self) when |w| < 0.5, else
 *  end − (end − self)·(1 − w). `omw` is 1 − w, computed in f32 like ATen's opmath. */
// @ts-ignore: decorator
@inline function lerp(self: v128, end: v128, w: v128, omw: v128, small: bool): v128 {
  const d = f32x4.sub(end, self);
  return small ? f32x4.add(self, f32x4.mul(w, d)) : f32x4.sub(end, f32x4.mul(d, omw));
}

// ---------------------------------------------------------------------------------------------
// SGD

// @ts-ignore: decorator
@inline function sgdVec(o: usize, k: i32, undo: usize, p: usize, g: usize, buf: usize, negLr: v128, mom: v128,
  omd: v128, wd: v128, hasWd: bool, hasMom: bool, nesterov: bool, first: bool): v128 {
  const pv = loadLanes(p + o, k);
  let gv = loadLanes(g + o, k);
  if (hasWd) gv = f32x4.add(gv, f32x4.mul(wd, pv));
  let bad = f32x4.splat(0);
  if (hasMom) {
    const b0 = loadLanes(buf + o, k);
    const b = first ? gv : f32x4.add(f32x4.mul(b0, mom), f32x4.mul(omd, gv));
    bad = emit(undo, buf + o, b0, b, k);
    gv = nesterov ? f32x4.add(gv, f32x4.mul(mom, b)) : b;
  }
  return f32x4.add(bad, emit(undo, p + o, pv, f32x4.add(pv, f32x4.mul(negLr, gv)), k));
}

/**
 * SGD with momentum, dampening, Nesterov momentum and L2 weight decay, as torch.optim.SGD.
 * Momentum: Sutskever et al., "On the importance of initialization and momentum in deep
 * learning", ICML 2013, https://proceedings.mlr.press/v28/sutskever13.html
 *
 * ```
 * input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay), μ (momentum), τ (dampening),
 *        nesterov
 * for t = 1 to …:
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
 *   if μ ≠ 0:
 *     if t > 1:  b_t ← μ b_{t−1} + (1 − τ) g_t
 *     else:      b_t ← g_t
 *     if nesterov:  g_t ← g_t + μ b_t
 *     else:         g_t ← b_t
 *   θ_t ← θ_{t−1} − γ g_t
 * ```
 * buf (b) is read and written only when momentum ≠ 0; at step 1 its old value goes to the undo
 * log only.
 */
export function f32_sgd(n: i32, p: usize, g: usize, buf: usize, lr: f64, momentum: f64, dampening: f64,
  weightDecay: f64, nesterov: i32, step: i32, undo: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    const split = parallelSgd(n, p, g, buf, lr, momentum, dampening, weightDecay, nesterov, step, undo);
    if (split >= 0) return split;
  }
  const negLr = f32x4.splat(<f32>-lr);
  const mom = f32x4.splat(<f32>momentum);
  const omd = f32x4.splat(<f32>(1 - dampening));
  const wd = f32x4.splat(<f32>weightDecay);
  const hasWd = weightDecay != 0;
  const hasMom = momentum != 0;
  const nest = nesterov != 0;
  const first = step <= 1;
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    acc = tally(acc, sgdVec(<usize>i << 2, 4, undo, p, g, buf, negLr, mom, omd, wd, hasWd, hasMom, nest, first), 4);
  }
  if (i < n) {
    acc = tally(acc, sgdVec(<usize>i << 2, n - i, undo, p, g, buf, negLr, mom, omd, wd, hasWd, hasMom, nest, first), n - i);
  }
  return flagged(acc);
}

// ---------------------------------------------------------------------------------------------
// Adam, AdamW, AMSGrad

// @ts-ignore: decorator
@inline function adamVec(o: usize, k: i32, undo: usize, p: usize, g: usize, m: usize, v: usize, vmax: usize,
  negStep: v128, b2: v128, omb2: v128, w1: v128, omw1: v128, small1: bool, c2: v128, eps: v128,
  wd: v128, decay: v128, hasWd: bool, decoupled: bool, amsgrad: bool): v128 {
  const p0 = loadLanes(p + o, k);
  let pv = p0;
  let gv = loadLanes(g + o, k);
  if (hasWd) {
    if (decoupled) pv = f32x4.mul(pv, decay);
    else gv = f32x4.add(gv, f32x4.mul(wd, pv));
  }
  const m0 = loadLanes(m + o, k);
  const mv = lerp(m0, gv, w1, omw1, small1);
  let bad = emit(undo, m + o, m0, mv, k);
  const v0 = loadLanes(v + o, k);
  let vv = f32x4.add(f32x4.mul(v0, b2), f32x4.mul(f32x4.mul(omb2, gv), gv));
  bad = f32x4.add(bad, emit(undo, v + o, v0, vv, k));
  if (amsgrad) {
    const x0 = loadLanes(vmax + o, k);
    vv = f32x4.max(x0, vv);
    bad = f32x4.add(bad, emit(undo, vmax + o, x0, vv, k));
  }
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), c2), eps);
  return f32x4.add(bad, emit(undo, p + o, p0, f32x4.add(pv, f32x4.div(f32x4.mul(negStep, mv), denom)), k));
}

/**
 * Adam (decoupled = 0) and AdamW (decoupled = 1), with optional AMSGrad, as torch.optim.Adam /
 * torch.optim.AdamW: one kernel, the weight decay mode is a flag.
 * Adam: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
 * https://arxiv.org/abs/1412.6980. AdamW: Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019, https://arxiv.org/abs/1711.05101. AMSGrad: Reddi et al., "On the
 * Convergence of Adam and Beyond", ICLR 2018, https://openreview.net/forum?id=ryQu7f-RZ
 *
 * ```
 * input: γ (lr), β1, β2 (betas), θ₀ (params), f(θ) (objective), λ (weight decay), amsgrad,
 *        ε (epsilon), decoupled
 * initialize: m₀ ← 0, v₀ ← 0, v₀^max ← 0
 * for t = 1 to …:
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if λ ≠ 0:
 *     if decoupled:  θ_{t−1} ← θ_{t−1} − γ λ θ_{t−1}        (AdamW)
 *     else:          g_t ← g_t + λ θ_{t−1}                  (Adam, L2)
 *   m_t ← β1 m_{t−1} + (1 − β1) g_t
 *   v_t ← β2 v_{t−1} + (1 − β2) g_t²
 *   m̂_t ← m_t / (1 − β1^t)
 *   if amsgrad:
 *     v_t^max ← max(v_{t−1}^max, v_t)
 *     v̂_t ← v_t^max / (1 − β2^t)
 *   else:
 *     v̂_t ← v_t / (1 − β2^t)
 *   θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)
 * ```
 * Computed as torch.optim does (single-tensor path): bc1 = 1 − β1^t and bc2 = 1 − β2^t in f64
 * here, in wasm (AssemblyScript's Math.pow is compiled code, so every engine gets the same
 * bits); m ← lerp(m, g, 1 − β1); v ← v·β2 + ((1 − β2)·g)·g; denom ← √v̂'/√bc2 + ε (v̂' = v or
 * v^max); θ ← θ + ((−γ/bc1)·m) / denom; AdamW first does θ ← θ·(1 − γλ).
 * vmax is touched only when amsgrad = 1.
 */
export function f32_adam(n: i32, p: usize, g: usize, m: usize, v: usize, vmax: usize, lr: f64, beta1: f64,
  beta2: f64, eps: f64, weightDecay: f64, decoupled: i32, amsgrad: i32, step: i32, undo: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    const split = parallelAdam(n, p, g, m, v, vmax, lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad, step, undo);
    if (split >= 0) return split;
  }
  const t = <f64>step;
  const bc1 = 1 - Math.pow(beta1, t);
  const bc2 = 1 - Math.pow(beta2, t);
  const negStep = f32x4.splat(<f32>(-(lr / bc1)));
  const c2 = f32x4.splat(<f32>Math.sqrt(bc2));
  const w1s = <f32>(1 - beta1);
  const w1 = f32x4.splat(w1s);
  const omw1 = f32x4.splat(<f32>1 - w1s);
  const small1 = Mathf.abs(w1s) < 0.5;
  const b2 = f32x4.splat(<f32>beta2);
  const omb2 = f32x4.splat(<f32>(1 - beta2));
  const ep = f32x4.splat(<f32>eps);
  const wd = f32x4.splat(<f32>weightDecay);
  const decay = f32x4.splat(<f32>(1 - lr * weightDecay));
  const hasWd = weightDecay != 0;
  const dec = decoupled != 0;
  const ams = amsgrad != 0;
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    acc = tally(acc, adamVec(<usize>i << 2, 4, undo, p, g, m, v, vmax, negStep, b2, omb2, w1, omw1, small1, c2, ep, wd,
      decay, hasWd, dec, ams), 4);
  }
  if (i < n) {
    acc = tally(acc, adamVec(<usize>i << 2, n - i, undo, p, g, m, v, vmax, negStep, b2, omb2, w1, omw1, small1, c2, ep,
      wd, decay, hasWd, dec, ams), n - i);
  }
  return flagged(acc);
}

// ---------------------------------------------------------------------------------------------
// RMSprop

// @ts-ignore: decorator
@inline function rmspropVec(o: usize, k: i32, undo: usize, p: usize, g: usize, sq: usize, gavg: usize,
  buf: usize, negLr: v128, alpha: v128, oma: v128, omw: v128, smallW: bool, eps: v128, wd: v128, mom: v128,
  hasWd: bool, hasMom: bool, centered: bool): v128 {
  const pv = loadLanes(p + o, k);
  let gv = loadLanes(g + o, k);
  if (hasWd) gv = f32x4.add(gv, f32x4.mul(wd, pv));
  const s0 = loadLanes(sq + o, k);
  const sv = f32x4.add(f32x4.mul(s0, alpha), f32x4.mul(f32x4.mul(oma, gv), gv));
  let bad = emit(undo, sq + o, s0, sv, k);
  let avg: v128;
  if (centered) {
    const a0 = loadLanes(gavg + o, k);
    const av = lerp(a0, gv, oma, omw, smallW);
    bad = f32x4.add(bad, emit(undo, gavg + o, a0, av, k));
    avg = f32x4.sqrt(f32x4.sub(sv, f32x4.mul(av, av)));
  } else {
    avg = f32x4.sqrt(sv);
  }
  avg = f32x4.add(avg, eps);
  if (hasMom) {
    const b0 = loadLanes(buf + o, k);
    const b = f32x4.add(f32x4.mul(b0, mom), f32x4.div(gv, avg));
    bad = f32x4.add(bad, emit(undo, buf + o, b0, b, k));
    return f32x4.add(bad, emit(undo, p + o, pv, f32x4.add(pv, f32x4.mul(negLr, b)), k));
  }
  return f32x4.add(bad, emit(undo, p + o, pv, f32x4.add(pv, f32x4.div(f32x4.mul(negLr, gv), avg)), k));
}

/**
 * RMSprop, as torch.optim.RMSprop (Hinton, Neural Networks for Machine Learning, lecture 6e,
 * https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf; the centered
 * variant: Graves, "Generating Sequences With Recurrent Neural Networks", 2013,
 * https://arxiv.org/abs/1308.0850).
 *
 * ```
 * input: α (alpha), γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay), μ (momentum),
 *        centered, ε (epsilon)
 * initialize: v₀ ← 0 (square average), b₀ ← 0 (buffer), g₀^ave ← 0
 * for t = 1 to …:
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
 *   v_t ← α v_{t−1} + (1 − α) g_t²
 *   ṽ_t ← v_t
 *   if centered:
 *     g_t^ave ← g_{t−1}^ave α + (1 − α) g_t
 *     ṽ_t ← ṽ_t − (g_t^ave)²
 *   if μ > 0:
 *     b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε)
 *     θ_t ← θ_{t−1} − γ b_t
 *   else:
 *     θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)
 * ```
 * As in PyTorch, the centered ṽ is not clamped: rounding can make it slightly negative when the
 * gradient is nearly constant, and √ of it is then NaN. gavg is used only when centered, buf
 * only when momentum > 0 (a buffer that starts at zero, so no special first step).
 */
export function f32_rmsprop(n: i32, p: usize, g: usize, sq: usize, gavg: usize, buf: usize, lr: f64, alpha: f64,
  eps: f64, weightDecay: f64, momentum: f64, centered: i32, undo: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    const split = parallelRmsprop(n, p, g, sq, gavg, buf, lr, alpha, eps, weightDecay, momentum, centered, undo);
    if (split >= 0) return split;
  }
  const negLr = f32x4.splat(<f32>-lr);
  const al = f32x4.splat(<f32>alpha);
  const omas = <f32>(1 - alpha);
  const oma = f32x4.splat(omas);
  const omw = f32x4.splat(<f32>1 - omas);
  const smallW = Mathf.abs(omas) < 0.5;
  const ep = f32x4.splat(<f32>eps);
  const wd = f32x4.splat(<f32>weightDecay);
  const mom = f32x4.splat(<f32>momentum);
  const hasWd = weightDecay != 0;
  const hasMom = momentum > 0;
  const cen = centered != 0;
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    acc = tally(acc, rmspropVec(<usize>i << 2, 4, undo, p, g, sq, gavg, buf, negLr, al, oma, omw, smallW, ep, wd, mom,
      hasWd, hasMom, cen), 4);
  }
  if (i < n) {
    acc = tally(acc, rmspropVec(<usize>i << 2, n - i, undo, p, g, sq, gavg, buf, negLr, al, oma, omw, smallW, ep, wd,
      mom, hasWd, hasMom, cen), n - i);
  }
  return flagged(acc);
}

// ---------------------------------------------------------------------------------------------
// Adagrad

// @ts-ignore: decorator
@inline function adagradVec(o: usize, k: i32, undo: usize, p: usize, g: usize, sum: usize, negClr: v128,
  eps: v128, wd: v128, hasWd: bool): v128 {
  const pv = loadLanes(p + o, k);
  let gv = loadLanes(g + o, k);
  if (hasWd) gv = f32x4.add(gv, f32x4.mul(wd, pv));
  const s0 = loadLanes(sum + o, k);
  const s = f32x4.add(s0, f32x4.mul(gv, gv));
  const bad = emit(undo, sum + o, s0, s, k);
  const std = f32x4.add(f32x4.sqrt(s), eps);
  return f32x4.add(bad, emit(undo, p + o, pv, f32x4.add(pv, f32x4.div(f32x4.mul(negClr, gv), std)), k));
}

/**
 * Adagrad, as torch.optim.Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for
 * Online Learning and Stochastic Optimization", JMLR 12, 2011,
 * https://jmlr.org/papers/v12/duchi11a.html).
 *
 * ```
 * input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight decay),
 *        τ (initial accumulator value), η (lr decay), ε (epsilon)
 * initialize: state_sum₀ ← τ
 * for t = 1 to …:
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   γ̃ ← γ / (1 + (t − 1) η)
 *   if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
 *   state_sum_t ← state_sum_{t−1} + g_t²
 *   θ_t ← θ_{t−1} − γ̃ g_t / (√state_sum_t + ε)
 * ```
 * The initial accumulator τ is the caller's job (f32_fill on sum before the first step).
 */
export function f32_adagrad(n: i32, p: usize, g: usize, sum: usize, lr: f64, lrDecay: f64, weightDecay: f64,
  eps: f64, step: i32, undo: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    const split = parallelAdagrad(n, p, g, sum, lr, lrDecay, weightDecay, eps, step, undo);
    if (split >= 0) return split;
  }
  const clr = lr / (1 + <f64>(step - 1) * lrDecay);
  const negClr = f32x4.splat(<f32>-clr);
  const ep = f32x4.splat(<f32>eps);
  const wd = f32x4.splat(<f32>weightDecay);
  const hasWd = weightDecay != 0;
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) acc = tally(acc, adagradVec(<usize>i << 2, 4, undo, p, g, sum, negClr, ep, wd, hasWd), 4);
  if (i < n) acc = tally(acc, adagradVec(<usize>i << 2, n - i, undo, p, g, sum, negClr, ep, wd, hasWd), n - i);
  return flagged(acc);
}

// ---------------------------------------------------------------------------------------------
// Adadelta

// @ts-ignore: decorator
@inline function adadeltaVec(o: usize, k: i32, undo: usize, p: usize, g: usize, sq: usize, acc: usize,
  negLr: v128, rho: v128, omr: v128, eps: v128, wd: v128, hasWd: bool): v128 {
  const pv = loadLanes(p + o, k);
  let gv = loadLanes(g + o, k);
  if (hasWd) gv = f32x4.add(gv, f32x4.mul(wd, pv));
  const s0 = loadLanes(sq + o, k);
  const s = f32x4.add(f32x4.mul(s0, rho), f32x4.mul(f32x4.mul(omr, gv), gv));
  let bad = emit(undo, sq + o, s0, s, k);
  const std = f32x4.sqrt(f32x4.add(s, eps));
  const av = loadLanes(acc + o, k);
  const delta = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(av, eps)), std), gv);
  bad = f32x4.add(bad, emit(undo, acc + o, av, f32x4.add(f32x4.mul(av, rho), f32x4.mul(f32x4.mul(omr, delta), delta)), k));
  return f32x4.add(bad, emit(undo, p + o, pv, f32x4.add(pv, f32x4.mul(negLr, delta)), k));
}

/**
 * Adadelta, as torch.optim.Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method",
 * 2012, https://arxiv.org/abs/1212.5701).
 *
 * ```
 * input: γ (lr), θ₀ (params), f(θ) (objective), ρ (decay), λ (weight decay), ε (epsilon)
 * initialize: v₀ ← 0 (square avg), u₀ ← 0 (accumulate variables)
 * for t = 1 to …:
 *   g_t ← ∇_θ f_t(θ_{t−1})
 *   if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
 *   v_t ← v_{t−1} ρ + g_t² (1 − ρ)
 *   Δx_t ← (√(u_{t−1} + ε) / √(v_t + ε)) g_t
 *   u_t ← u_{t−1} ρ + Δx_t² (1 − ρ)
 *   θ_t ← θ_{t−1} − γ Δx_t
 * ```
 */
export function f32_adadelta(n: i32, p: usize, g: usize, sq: usize, accDelta: usize, lr: f64, rho: f64, eps: f64,
  weightDecay: f64, undo: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    const split = parallelAdadelta(n, p, g, sq, accDelta, lr, rho, eps, weightDecay, undo);
    if (split >= 0) return split;
  }
  const negLr = f32x4.splat(<f32>-lr);
  const rh = f32x4.splat(<f32>rho);
  const omr = f32x4.splat(<f32>(1 - rho));
  const ep = f32x4.splat(<f32>eps);
  const wd = f32x4.splat(<f32>weightDecay);
  const hasWd = weightDecay != 0;
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) acc = tally(acc, adadeltaVec(<usize>i << 2, 4, undo, p, g, sq, accDelta, negLr, rh, omr, ep, wd, hasWd), 4);
  if (i < n) acc = tally(acc, adadeltaVec(<usize>i << 2, n - i, undo, p, g, sq, accDelta, negLr, rh, omr, ep, wd, hasWd), n - i);
  return flagged(acc);
}
