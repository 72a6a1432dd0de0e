// AssemblyScript (copied to kernels.ts and compiled by bench/probes/run.mjs next to a copy
// of assembly/math.ts; never part of the library). Measured against the library's own exports.
import { exp_f32x4, log1p_f32x4 } from './math';

// @ts-ignore: decorator
@inline function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
// @ts-ignore: decorator
@inline function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)); }

/**
 * BCE from logits with the sigmoid output y of the forward pass already at hand: the gradient is
 * gscale·(y − t) (no exp, no division) and log1p(exp(−|z|)) = −log(max(y, 1 − y)) (one log of a
 * value in [0.5, 1], where it is well conditioned; absolute error ≤ ~6e-8 per value when 1 − y
 * rounds). Same loss and gradient as losses.ts f32_loss_bce_logits up to float rounding.
 */
export function bce_from_output(logits: usize, y: usize, target: usize, grad: usize, n: i32, gscale: f32): f64 {
  const one = f32x4.splat(1.0);
  const gs = f32x4.splat(gscale);
  const zero64 = f64x2.splat(0);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  for (let i = 0; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const z = v128.load(logits + o);
    const yv = v128.load(y + o);
    const t = v128.load(target + o);
    // −log(max(y, 1−y)) = −log1p(max(y, 1−y) − 1), computed with the library's log1p
    const sp = f32x4.neg(log1p_f32x4(f32x4.sub(f32x4.max(yv, f32x4.sub(one, yv)), one)));
    const z0 = lo64(z);
    const z1 = hi64(z);
    acc0 = f64x2.add(acc0, f64x2.add(f64x2.sub(f64x2.max(z0, zero64), f64x2.mul(z0, lo64(t))), lo64(sp)));
    acc1 = f64x2.add(acc1, f64x2.add(f64x2.sub(f64x2.max(z1, zero64), f64x2.mul(z1, hi64(t))), hi64(sp)));
    v128.store(grad + o, f32x4.mul(f32x4.sub(yv, t), gs));
  }
  return f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc0, 1) + f64x2.extract_lane(acc1, 0) + f64x2.extract_lane(acc1, 1);
}

/** The library's BCE loop (losses.ts) for reference, compiled in the same module. */
export function bce_library_loop(logits: usize, target: usize, grad: usize, n: i32, gscale: f32): f64 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  const gs = f32x4.splat(gscale);
  const zero64 = f64x2.splat(0);
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  for (let i = 0; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const z = v128.load(logits + o);
    const t = v128.load(target + o);
    const e = exp_f32x4(f32x4.neg(f32x4.abs(z)));
    const sp = log1p_f32x4(e);
    const z0 = lo64(z);
    const z1 = hi64(z);
    acc0 = f64x2.add(acc0, f64x2.add(f64x2.sub(f64x2.max(z0, zero64), f64x2.mul(z0, lo64(t))), lo64(sp)));
    acc1 = f64x2.add(acc1, f64x2.add(f64x2.sub(f64x2.max(z1, zero64), f64x2.mul(z1, hi64(t))), hi64(sp)));
    const s = f32x4.div(v128.bitselect(one, e, f32x4.ge(z, zero)), f32x4.add(e, one));
    v128.store(grad + o, f32x4.mul(f32x4.sub(s, t), gs));
  }
  return f64x2.extract_lane(acc0, 0) + f64x2.extract_lane(acc0, 1) + f64x2.extract_lane(acc1, 0) + f64x2.extract_lane(acc1, 1);
}

/** Σ x² with 4 independent f64x2 accumulator pairs (the library's f32_sum_sq has one pair). */
export function sum_sq_4acc(n: i32, x: usize): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  for (let i = 0; i + 8 <= n; i += 8) {
    const v = v128.load(x + (<usize>i << 2));
    const w = v128.load(x + (<usize>i << 2), 16);
    const v0 = lo64(v), v1 = hi64(v), w0 = lo64(w), w1 = hi64(w);
    a0 = f64x2.add(a0, f64x2.mul(v0, v0));
    a1 = f64x2.add(a1, f64x2.mul(v1, v1));
    a2 = f64x2.add(a2, f64x2.mul(w0, w0));
    a3 = f64x2.add(a3, f64x2.mul(w1, w1));
  }
  const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}
