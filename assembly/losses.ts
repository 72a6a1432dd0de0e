// Losses: each kernel returns the loss summed over its n values (an f64, accumulated in f64) and,
// when grad ≠ 0, writes grad = gscale · ∂loss/∂pred (gscale = 1/count turns the sum into a mean).
//
// The SIMD body keeps two f64x2 accumulators (lanes 0–1 and 2–3 of each f32x4); the scalar tail
// adds into a third, and the three are summed in a fixed order, so the result is the same on
// every engine. Per-element terms that are exact in f64 (differences and products of two f32)
// are formed in f64; the gradients are f32 computed the same way in body and tail.

import { exp_f32, exp_f32x4, log1p_f32, log1p_f32x4 } from './math';
import { parallelBceSigmoid, pooledRowSum } from './parallel';

// @ts-ignore: decorator
@inline function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3));
}
// @ts-ignore: decorator
@inline function total(acc0: v128, acc1: v128, tail: f64): f64 {
  return ((f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc0, 1)) +
    (f64x2.extract_lane(acc1, 0) + f64x2.extract_lane(acc1, 1))) + tail;
}

/** Σ (p − t)² over n values; if grad ≠ 0, grad = g2·(p − t) with g2 = 2·gscale. */
// @ts-ignore: decorator
@inline function sqErr(pred: usize, target: usize, grad: usize, n: i32, g2: f32): f64 {
  const g2v = f32x4.splat(g2);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(pred + o);
    const t = v128.load(target + o);
    const d0 = f64x2.sub(lo64(p), lo64(t));
    const d1 = f64x2.sub(hi64(p), hi64(t));
    acc0 = f64x2.add(acc0, f64x2.mul(d0, d0));
    acc1 = f64x2.add(acc1, f64x2.mul(d1, d1));
    if (grad != 0) v128.store(grad + o, f32x4.mul(f32x4.sub(p, t), g2v));
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(pred + o);
    const t = load<f32>(target + o);
    const d = <f64>p - <f64>t;
    tail += d * d;
    if (grad != 0) store<f32>(grad + o, (p - t) * g2);
  }
  return total(acc0, acc1, tail);
}

/** Mean squared error's sum: Σ (p − t)²; grad = gscale·2(p − t). */
export function f32_loss_mse(pred: usize, target: usize, grad: usize, n: i32, gscale: f32): f64 {
  return sqErr(pred, target, grad, n, gscale * 2.0);
}

/**
 * Σ |a − b| (b taken as 0 without `withB`); if grad ≠ 0, grad = (or += with `accumulate`)
 * gscale·sign(a − b): 0 where a == b, NaN where a − b is NaN. The sum of absolute differences is
 * taken in f64. One body for the L1 loss and the L1 activity penalty; the flags are constants
 * at each call, so the inlined loops carry no branches for them.
 */
// @ts-ignore: decorator
@inline function absDiffSum(a: usize, b: usize, withB: bool, grad: usize, n: i32, gscale: f32, accumulate: bool): f64 {
  const gp = f32x4.splat(gscale);
  const gn = f32x4.splat(-gscale);
  const zero = f32x4.splat(0.0);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(a + o);
    const t = withB ? v128.load(b + o) : zero;
    acc0 = f64x2.add(acc0, f64x2.abs(f64x2.sub(lo64(p), lo64(t))));
    acc1 = f64x2.add(acc1, f64x2.abs(f64x2.sub(hi64(p), hi64(t))));
    if (grad != 0) {
      const d = f32x4.sub(p, t);
      const g = v128.bitselect(gp, v128.bitselect(gn, f32x4.mul(d, zero), f32x4.lt(d, zero)), f32x4.gt(d, zero));
      v128.store(grad + o, accumulate ? f32x4.add(v128.load(grad + o), g) : g);
    }
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(a + o);
    const t: f32 = withB ? load<f32>(b + o) : 0;
    tail += abs<f64>(<f64>p - <f64>t);
    if (grad != 0) {
      const d = p - t;
      const g = select<f32>(gscale, select<f32>(-gscale, d * 0.0, d < 0), d > 0);
      store<f32>(grad + o, accumulate ? load<f32>(grad + o) + g : g);
    }
  }
  return total(acc0, acc1, tail);
}

/** Σ |p − t|; grad = gscale·sign(p − t), 0 where p == t (and NaN where p − t is NaN). */
export function f32_loss_l1(pred: usize, target: usize, grad: usize, n: i32, gscale: f32): f64 {
  return absDiffSum(pred, target, /* withB */ true, grad, n, gscale, /* accumulate */ false);
}

/**
 * Binary cross-entropy of a sigmoid output, from the forward pass's logits z and outputs
 * y = σ(z) (math.ts's sigmoid, computed once by the layer), for [m×n] z, y and targets t ∈ [0, 1]:
 * returns Σ max(z, 0) − z·t + log1p(e^−|z|); if grad ≠ 0, grad = gscale·(y − t).
 *
 * The softplus term needs no exp: σ(−|z|) = e^−|z|/(1 + e^−|z|) is s = y for z < 0 and 1 − y for
 * z ≥ 0 (exact: y ≥ ½ there), and log1p(e^−|z|) = −log1p(−s), s ∈ [0, ½]. For z < 0 this keeps
 * y's relative accuracy (tiny terms included); for z ≥ 0 its absolute error is that of y,
 * ≤ 2^−24 plus σ's 2 ULP (the term is below 2^−24 once z > 16.6, and then rounds to 0).
 * max(z, 0) − z·t is formed in f64, where it is exact up to one rounding.
 *
 * The sum runs row by row, each row's values in a fixed order (two f64x2 accumulators for the
 * body, the tail after), the row totals added in row order: its blocks come from the problem's
 * shape, so a caller that splits the rows (threads) and adds their totals in row order gets the
 * same bits.
 */
export function f32_loss_bce_sigmoid(logits: usize, probs: usize, target: usize, grad: usize, m: i32, n: i32,
  gscale: f32): f64 {
  if (ASC_FEATURE_THREADS) {
    if (parallelBceSigmoid(logits, probs, target, grad, m, n, gscale)) return pooledRowSum(m);
  }
  const rowBytes = <usize>n << 2;
  let sum: f64 = 0;
  for (let r = 0; r < m; r++) {
    const off = <usize>r * rowBytes;
    sum += bceSigmoidRow(logits + off, probs + off, target + off, grad == 0 ? 0 : grad + off, n, gscale);
  }
  return sum;
}

/** One row of f32_loss_bce_sigmoid: its total, and its gradient if grad ≠ 0. */
export function bceSigmoidRow(zr: usize, yr: usize, tr: usize, grad: usize, n: i32, gscale: f32): f64 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  const gs = f32x4.splat(gscale);
  const zero64 = f64x2.splat(0);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const z = v128.load(zr + o);
    const y = v128.load(yr + o);
    const t = v128.load(tr + o);
    const s = v128.bitselect(f32x4.sub(one, y), y, f32x4.ge(z, zero));
    const sp = f32x4.neg(log1p_f32x4(f32x4.neg(s)));
    const z0 = lo64(z);
    const z1 = hi64(z);
    // pmax (one maxpd; max is several instructions in V8): it differs from max only for z = −0,
    // where −0 − (−0·t) + sp and +0 − (−0·t) + sp are the same number
    acc0 = f64x2.add(acc0, f64x2.add(f64x2.sub(f64x2.pmax(z0, zero64), f64x2.mul(z0, lo64(t))), lo64(sp)));
    acc1 = f64x2.add(acc1, f64x2.add(f64x2.sub(f64x2.pmax(z1, zero64), f64x2.mul(z1, hi64(t))), hi64(sp)));
    if (grad != 0) v128.store(grad + o, f32x4.mul(f32x4.sub(y, t), gs));
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const z = load<f32>(zr + o);
    const y = load<f32>(yr + o);
    const t = load<f32>(tr + o);
    const s = select<f32>(<f32>1.0 - y, y, z >= 0);
    const z64 = <f64>z;
    tail += (max<f64>(z64, 0) - z64 * <f64>t) + <f64>(-log1p_f32(-s));
    if (grad != 0) store<f32>(grad + o, (y - t) * gscale);
  }
  return total(acc0, acc1, tail);
}

/** out[i] = mean_j (p[i, j] − t[i, j])² for [m×n] p and t (sum in f64, stored as f32). */
export function f32_row_mse(pred: usize, target: usize, out: usize, m: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  for (let r = 0; r < m; r++) {
    const off = <usize>r * rowBytes;
    const s = sqErr(pred + off, target + off, /* grad */ 0, n, /* g2 */ 0.0);
    store<f32>(out + (<usize>r << 2), <f32>(s / <f64>n));
  }
}

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) in closed form, summed over n values (Kingma & Welling 2014, app. B):
 * Σ −½(1 + log σ² − μ² − σ²). If gmu ≠ 0, also gmu = gscale·μ and
 * glogvar = gscale·½(σ² − 1) (overwritten). σ² = exp(log σ²) with the core's exp; each term is
 * formed in f64 from the f32 inputs and that f32 exp.
 */
export function f32_loss_kl_normal(mu: usize, logvar: usize, gmu: usize, glogvar: usize, n: i32, gscale: f32): f64 {
  const gs = f32x4.splat(gscale);
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1.0);
  const one64 = f64x2.splat(1.0);
  const mhalf64 = f64x2.splat(-0.5);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const m = v128.load(mu + o);
    const lv = v128.load(logvar + o);
    const e = exp_f32x4(lv);
    const m0 = lo64(m);
    const m1 = hi64(m);
    // −½·((1 + lv) − μ² − e), in f64
    acc0 = f64x2.add(acc0, f64x2.mul(mhalf64, f64x2.sub(f64x2.sub(f64x2.add(one64, lo64(lv)), f64x2.mul(m0, m0)), lo64(e))));
    acc1 = f64x2.add(acc1, f64x2.mul(mhalf64, f64x2.sub(f64x2.sub(f64x2.add(one64, hi64(lv)), f64x2.mul(m1, m1)), hi64(e))));
    if (gmu != 0) {
      v128.store(gmu + o, f32x4.mul(m, gs));
      v128.store(glogvar + o, f32x4.mul(f32x4.mul(f32x4.sub(e, one), half), gs));
    }
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const m = load<f32>(mu + o);
    const lv = load<f32>(logvar + o);
    const e = exp_f32(lv);
    const m64 = <f64>m;
    tail += -0.5 * (((1.0 + <f64>lv) - m64 * m64) - <f64>e);
    if (gmu != 0) {
      store<f32>(gmu + o, m * gscale);
      store<f32>(glogvar + o, ((e - 1.0) * 0.5) * gscale);
    }
  }
  return total(acc0, acc1, tail);
}

/**
 * L1 activity penalty: returns Σ |z|; if grad ≠ 0, grad += gscale·sign(z) (accumulated into the
 * gradient the layers above already wrote; sign(0) = 0).
 */
export function f32_penalty_l1(z: usize, grad: usize, n: i32, gscale: f32): f64 {
  return absDiffSum(z, 0, /* withB */ false, grad, n, gscale, /* accumulate */ true);
}

/** Bounds on the mean activation ρ̂ in the KL sparsity penalty, so its logs stay finite. */
// @ts-ignore: decorator
@inline const RHO_MIN: f64 = 1e-7;

/**
 * KL sparsity (Ng, "Sparse autoencoder", CS294A notes): for each of the n code units with column
 * sum colSum[j] over m rows, ρ̂ = colSum[j]/m (clamped to [1e−7, 1 − 1e−7]) and the penalty is
 * weight·Σ_j ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂)), returned. If d ≠ 0, d[j] =
 * (weight/m)·(−ρ/ρ̂ + (1 − ρ)/(1 − ρ̂)): the gradient for every row of unit j (add it per row).
 * Scalar and in f64 (n is a code width); log is AssemblyScript's own, compiled into this module.
 */
export function f32_penalty_kl_sparsity(colSum: usize, d: usize, n: i32, m: i32, rho: f64, weight: f64): f64 {
  let s: f64 = 0;
  const inv = 1.0 / <f64>m;
  for (let j = 0; j < n; j++) {
    const o = <usize>j << 2;
    const r = min<f64>(max<f64>(<f64>load<f32>(colSum + o) * inv, RHO_MIN), 1.0 - RHO_MIN);
    s += rho * Math.log(rho / r) + (1.0 - rho) * Math.log((1.0 - rho) / (1.0 - r));
    if (d != 0) store<f32>(d + o, <f32>(weight * inv * (-rho / r + (1.0 - rho) / (1.0 - r))));
  }
  return weight * s;
}
