// Activations: forward, backward and the fused bias + activation epilogue of a dense layer.
//
// Each activation is one class below holding its forward and its derivative side by side, in a
// scalar (f32) and an f32x4 form written as the same operations, so an element's bits do not
// depend on whether it falls in the SIMD body or the scalar tail. The loops are generic over
// the class (`changetype<T>(0)`: the classes are never instantiated, their @inline methods
// use no `this`), so each kernel is one loop per activation with no per-element dispatch.
// Transcendentals come from math.ts (never the host's Math). The semantics follow PyTorch
// (torch.nn.functional, 2.x), including its choices at kinks and thresholds.

import { parallelBiasAct } from './parallel';
import {
  exp_f32, exp_f32x4, expm1_f32, expm1_f32x4, sigmoid_f32, sigmoid_f32x4, sigmoid4, softplus_f32, softplus_f32x4,
  tanh_f32, tanh_f32x4, log_f32, log_f32x4, SOFTPLUS_THRESHOLD,
} from './math';

// Activation ids, defined here. They are exported as immutable globals (ACT_RELU, ...); the TS
// table (src/runtime/abi.ts ACTIVATIONS) is checked against them by test/abi.test.ts.
export const ACT_LINEAR: i32 = 0;
/** max(x, 0); derivative 0 at x = 0 (PyTorch). */
export const ACT_RELU: i32 = 1;
/** x > 0 ? x : alpha·x (PyTorch default alpha = negative_slope = 0.01); derivative alpha at 0. */
export const ACT_LEAKY_RELU: i32 = 2;
/** x > 0 ? x : alpha·expm1(x) (PyTorch default alpha = 1); derivative alpha·e^x for x ≤ 0. */
export const ACT_ELU: i32 = 3;
export const ACT_SIGMOID: i32 = 4;
export const ACT_TANH: i32 = 5;
/** log(1 + e^x), beta = 1, and x itself above threshold 20 (PyTorch's defaults). */
export const ACT_SOFTPLUS: i32 = 6;
/** GELU, the tanh approximation (PyTorch approximate='tanh'): ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export const ACT_GELU: i32 = 7;

// GELU, tanh form, rewritten with ½(1 + tanh u) = σ(2u): gelu(x) = x·σ(v), v = x·(G1 + G2·x²).
// Mathematically PyTorch's formula; numerically better for x < 0, where 1 + tanh u cancels.
// @ts-ignore: decorator
@inline const G1: f32 = reinterpret<f32>(0x3FCC422A); // 1.59576917 = 2·√(2/π)
// @ts-ignore: decorator
@inline const G2: f32 = reinterpret<f32>(0x3D922279); // 0.0713548139 = 2·√(2/π)·0.044715
// @ts-ignore: decorator
@inline const G3: f32 = reinterpret<f32>(0x3E5B33B6); // 0.214064449 = 3·G2 (dv/dx = G1 + G3·x²)
// The backward pass clamps x here: gelu' is exactly 0 or 1 in f32 well before |x| = 10, and the
// clamp keeps x² (hence dv/dx) finite, so ±1e30 gives 0/1 rather than 0·Inf = NaN.
// @ts-ignore: decorator
@inline const GELU_BWD_CLAMP: f32 = 1.0e4;

// ---- One class per activation ----------------------------------------------------------------
// fwd(x, alpha) = f(x); bwd(x, y, dy, alpha) = dy·f'(x) where y = f(x). needsX/needsY say which
// of x, y bwd reads, so the loops load nothing they do not use.

@final class Linear {
  @inline needsX(): bool { return false; }
  @inline needsY(): bool { return false; }
  @inline fwd(x: f32, a: f32): f32 { return x; }
  @inline fwd4(x: v128, a: v128): v128 { return x; }
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 { return dy; }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 { return dy; }
}

@final class Relu {
  @inline needsX(): bool { return true; }
  @inline needsY(): bool { return false; }
  @inline fwd(x: f32, a: f32): f32 { return max<f32>(x, 0.0); }
  // pmax (one maxps) rather than f32x4.max (about eight instructions in V8); pmax(x, 0) = x < 0 ?
  // 0 : x keeps a NaN x, and + 0 turns its −0 into max's +0: the same bits as the scalar max.
  @inline fwd4(x: v128, a: v128): v128 {
    const zero = f32x4.splat(0.0);
    return f32x4.add(f32x4.pmax(x, zero), zero);
  }
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 { return select<f32>(dy, 0.0, x > 0); }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 {
    return v128.and(dy, f32x4.gt(x, f32x4.splat(0.0)));
  }
}

@final class LeakyRelu {
  @inline needsX(): bool { return true; }
  @inline needsY(): bool { return false; }
  @inline fwd(x: f32, a: f32): f32 { return select<f32>(x, a * x, x > 0); }
  @inline fwd4(x: v128, a: v128): v128 {
    return v128.bitselect(x, f32x4.mul(a, x), f32x4.gt(x, f32x4.splat(0.0)));
  }
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 { return select<f32>(dy, a * dy, x > 0); }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 {
    return v128.bitselect(dy, f32x4.mul(a, dy), f32x4.gt(x, f32x4.splat(0.0)));
  }
}

@final class Elu {
  @inline needsX(): bool { return true; }
  @inline needsY(): bool { return false; }
  @inline fwd(x: f32, a: f32): f32 { return select<f32>(x, a * expm1_f32(x), x > 0); }
  @inline fwd4(x: v128, a: v128): v128 {
    return v128.bitselect(x, f32x4.mul(a, expm1_f32x4(x)), f32x4.gt(x, f32x4.splat(0.0)));
  }
  // From x rather than y + alpha: keeps relative accuracy where e^x is tiny.
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 { return select<f32>(dy, dy * (a * exp_f32(x)), x > 0); }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 {
    return v128.bitselect(dy, f32x4.mul(dy, f32x4.mul(a, exp_f32x4(x))), f32x4.gt(x, f32x4.splat(0.0)));
  }
}

@final class Sigmoid {
  @inline needsX(): bool { return false; }
  @inline needsY(): bool { return true; }
  @inline fwd(x: f32, a: f32): f32 { return sigmoid_f32(x); }
  @inline fwd4(x: v128, a: v128): v128 { return sigmoid4(x); }
  // σ' = y(1 − y), from the output as PyTorch does (absolute error ≤ 1 ULP of 1 near y = 1).
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 { return dy * (y * (<f32>1.0 - y)); }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 {
    return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(f32x4.splat(1.0), y)));
  }
}

@final class Tanh {
  @inline needsX(): bool { return false; }
  @inline needsY(): bool { return true; }
  @inline fwd(x: f32, a: f32): f32 { return tanh_f32(x); }
  @inline fwd4(x: v128, a: v128): v128 { return tanh_f32x4(x); }
  // tanh' = 1 − y², from the output as PyTorch does.
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 { return dy * (<f32>1.0 - y * y); }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 {
    return f32x4.mul(dy, f32x4.sub(f32x4.splat(1.0), f32x4.mul(y, y)));
  }
}

@final class Softplus {
  @inline needsX(): bool { return true; }
  @inline needsY(): bool { return false; }
  @inline fwd(x: f32, a: f32): f32 { return softplus_f32(x); }
  @inline fwd4(x: v128, a: v128): v128 { return softplus_f32x4(x); }
  // softplus' = σ(x), and 1 above the threshold (PyTorch's softplus_backward).
  @inline bwd(x: f32, y: f32, dy: f32, a: f32): f32 {
    return select<f32>(dy, dy * sigmoid_f32(x), x > SOFTPLUS_THRESHOLD);
  }
  @inline bwd4(x: v128, y: v128, dy: v128, a: v128): v128 {
    return v128.bitselect(dy, f32x4.mul(dy, sigmoid_f32x4(x)), f32x4.gt(x, f32x4.splat(SOFTPLUS_THRESHOLD)));
  }
}

@final class Gelu {
  @inline needsX(): bool { return true; }
  @inline needsY(): bool { return false; }
  @inline fwd(x: f32, a: f32): f32 { return x * sigmoid_f32(x * (G1 + G2 * (x * x))); }
  @inline fwd4(x: v128, a: v128): v128 {
    const x2 = f32x4.mul(x, x);
    return f32x4.mul(x, sigmoid_f32x4(f32x4.mul(x, f32x4.add(f32x4.splat(G1), f32x4.mul(f32x4.splat(G2), x2)))));
  }
  // gelu' = s + x·s·(1 − s)·dv/dx with s = σ(v); s and 1 − s both come from e = exp(−|v|), so
  // neither loses accuracy in the tails.
  @inline bwd(xin: f32, y: f32, dy: f32, a: f32): f32 {
    const x = min<f32>(max<f32>(xin, -GELU_BWD_CLAMP), GELU_BWD_CLAMP);
    const x2 = x * x;
    const v = x * (G1 + G2 * x2);
    const e = exp_f32(-abs<f32>(v));
    const d = e + 1.0;
    const pos = v >= 0;
    const s = select<f32>(1.0, e, pos) / d;
    const sc = select<f32>(e, 1.0, pos) / d;
    return dy * (s + (x * (s * sc)) * (G1 + G3 * x2));
  }
  @inline bwd4(xin: v128, y: v128, dy: v128, a: v128): v128 {
    const one = f32x4.splat(1.0);
    const x = f32x4.pmin(f32x4.pmax(xin, f32x4.splat(-GELU_BWD_CLAMP)), f32x4.splat(GELU_BWD_CLAMP)); // see math.ts
    const x2 = f32x4.mul(x, x);
    const v = f32x4.mul(x, f32x4.add(f32x4.splat(G1), f32x4.mul(f32x4.splat(G2), x2)));
    const e = exp_f32x4(f32x4.neg(f32x4.abs(v)));
    const d = f32x4.add(e, one);
    const pos = f32x4.ge(v, f32x4.splat(0.0));
    const s = f32x4.div(v128.bitselect(one, e, pos), d);
    const sc = f32x4.div(v128.bitselect(e, one, pos), d);
    const dv = f32x4.add(f32x4.splat(G1), f32x4.mul(f32x4.splat(G3), x2));
    return f32x4.mul(dy, f32x4.add(s, f32x4.mul(f32x4.mul(x, f32x4.mul(s, sc)), dv)));
  }
}

// ---- Generic loops ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function forwardLoop<T>(alpha: f32, x: usize, y: usize, n: i32): void {
  const op = changetype<T>(0);
  const av = f32x4.splat(alpha);
  let i = 0;
  // Four vectors per iteration: a transcendental (sigmoid: ~20 dependent operations and a
  // division) is bound by its chain's latency, and independent chains in one iteration overlap
  // (measured for sigmoid, n = 200,704: 4.4 GB/s one vector per iteration, 5.8 two, 5.9–7.0 four).
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = op.fwd4(v128.load(x + o), av);
    const b = op.fwd4(v128.load(x + o, 16), av);
    const c = op.fwd4(v128.load(x + o, 32), av);
    const d = op.fwd4(v128.load(x + o, 48), av);
    v128.store(y + o, a);
    v128.store(y + o, b, 16);
    v128.store(y + o, c, 32);
    v128.store(y + o, d, 48);
  }
  // the last n mod 16 values one by one (the same bits as the lanes): one copy of fwd4 fewer
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, op.fwd(load<f32>(x + o), alpha));
  }
}

// @ts-ignore: decorator
@inline function backwardLoop<T>(alpha: f32, x: usize, y: usize, dy: usize, dx: usize, n: i32): void {
  const op = changetype<T>(0);
  const av = f32x4.splat(alpha);
  const zero = f32x4.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const xv = op.needsX() ? v128.load(x + o) : zero;
    const yv = op.needsY() ? v128.load(y + o) : zero;
    v128.store(dx + o, op.bwd4(xv, yv, v128.load(dy + o), av));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xs: f32 = op.needsX() ? load<f32>(x + o) : 0.0;
    const ys: f32 = op.needsY() ? load<f32>(y + o) : 0.0;
    store<f32>(dx + o, op.bwd(xs, ys, load<f32>(dy + o), alpha));
  }
}

// @ts-ignore: decorator
@inline function biasActLoop<T>(alpha: f32, z: usize, bias: usize, y: usize, m: i32, n: i32): void {
  const op = changetype<T>(0);
  const av = f32x4.splat(alpha);
  const rowBytes = <usize>n << 2;
  for (let r = 0; r < m; r++) {
    const zr = z + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let j = 0;
    for (; j + 8 <= n; j += 8) { // two vectors per iteration: see forwardLoop
      const o = <usize>j << 2;
      const za = f32x4.add(v128.load(zr + o), v128.load(bias + o));
      const zb = f32x4.add(v128.load(zr + o, 16), v128.load(bias + o, 16));
      v128.store(zr + o, za);
      v128.store(zr + o, zb, 16);
      const ya = op.fwd4(za, av);
      const yb = op.fwd4(zb, av);
      v128.store(yr + o, ya);
      v128.store(yr + o, yb, 16);
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      const zs = load<f32>(zr + o) + load<f32>(bias + o);
      store<f32>(zr + o, zs);
      store<f32>(yr + o, op.fwd(zs, alpha));
    }
  }
}

// ---- Exported kernels ------------------------------------------------------------------------
// An unknown activation id traps (unreachable): the TS layer validates ids, so reaching the
// default branch is a bug that must not pass silently. The debug build names it (checkAct; the
// check is compiled out of the release builds, which stay byte for byte as they were).

@inline function checkAct(act: i32): void {
  if (!ASC_NO_ASSERT) assert(act >= ACT_LINEAR && act <= ACT_GELU, 'unknown activation id');
}

/** y = f(x), elementwise over n values; y may alias x. */
export function f32_act_forward(act: i32, alpha: f32, x: usize, y: usize, n: i32): void {
  checkAct(act);
  switch (act) {
    case ACT_LINEAR: { if (x != y) memory.copy(y, x, <usize>n << 2); break; }
    case ACT_RELU: { forwardLoop<Relu>(alpha, x, y, n); break; }
    case ACT_LEAKY_RELU: { forwardLoop<LeakyRelu>(alpha, x, y, n); break; }
    case ACT_ELU: { forwardLoop<Elu>(alpha, x, y, n); break; }
    case ACT_SIGMOID: { forwardLoop<Sigmoid>(alpha, x, y, n); break; }
    case ACT_TANH: { forwardLoop<Tanh>(alpha, x, y, n); break; }
    case ACT_SOFTPLUS: { forwardLoop<Softplus>(alpha, x, y, n); break; }
    case ACT_GELU: { forwardLoop<Gelu>(alpha, x, y, n); break; }
    default: unreachable();
  }
}

/**
 * dx = dy ⊙ f'(x) over n values, given the pre-activation x and the output y = f(x) (sigmoid and
 * tanh read y, the others x); dx may alias dy.
 */
export function f32_act_backward(act: i32, alpha: f32, x: usize, y: usize, dy: usize, dx: usize, n: i32): void {
  checkAct(act);
  switch (act) {
    case ACT_LINEAR: { if (dx != dy) memory.copy(dx, dy, <usize>n << 2); break; }
    case ACT_RELU: { backwardLoop<Relu>(alpha, x, y, dy, dx, n); break; }
    case ACT_LEAKY_RELU: { backwardLoop<LeakyRelu>(alpha, x, y, dy, dx, n); break; }
    case ACT_ELU: { backwardLoop<Elu>(alpha, x, y, dy, dx, n); break; }
    case ACT_SIGMOID: { backwardLoop<Sigmoid>(alpha, x, y, dy, dx, n); break; }
    case ACT_TANH: { backwardLoop<Tanh>(alpha, x, y, dy, dx, n); break; }
    case ACT_SOFTPLUS: { backwardLoop<Softplus>(alpha, x, y, dy, dx, n); break; }
    case ACT_GELU: { backwardLoop<Gelu>(alpha, x, y, dy, dx, n); break; }
    default: unreachable();
  }
}

/**
 * The fused epilogue of a dense layer, [m×n] row-major: z[i, j] += bias[j] in place (z is kept
 * for the backward pass), then y = f(z). y may be z itself. Bit-identical to f32_bias_add
 * followed by f32_act_forward.
 */
export function f32_bias_act(act: i32, alpha: f32, z: usize, bias: usize, y: usize, m: i32, n: i32): void {
  checkAct(act);
  if (ASC_FEATURE_THREADS) {
    if (parallelBiasAct(act, alpha, z, bias, y, m, n)) return;
  }
  switch (act) {
    case ACT_LINEAR: { biasActLoop<Linear>(alpha, z, bias, y, m, n); break; }
    case ACT_RELU: { biasActLoop<Relu>(alpha, z, bias, y, m, n); break; }
    case ACT_LEAKY_RELU: { biasActLoop<LeakyRelu>(alpha, z, bias, y, m, n); break; }
    case ACT_ELU: { biasActLoop<Elu>(alpha, z, bias, y, m, n); break; }
    case ACT_SIGMOID: { biasActLoop<Sigmoid>(alpha, z, bias, y, m, n); break; }
    case ACT_TANH: { biasActLoop<Tanh>(alpha, z, bias, y, m, n); break; }
    case ACT_SOFTPLUS: { biasActLoop<Softplus>(alpha, z, bias, y, m, n); break; }
    case ACT_GELU: { biasActLoop<Gelu>(alpha, z, bias, y, m, n); break; }
    default: unreachable();
  }
}

/** y = e^x elementwise (math.ts's exp: the same bits on every engine); y may alias x. */
export function f32_exp(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, exp_f32x4(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, exp_f32(load<f32>(x + o)));
  }
}

/** y = ln x elementwise (math.ts's log); y may alias x. */
export function f32_log(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, log_f32x4(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, log_f32(load<f32>(x + o)));
  }
}
