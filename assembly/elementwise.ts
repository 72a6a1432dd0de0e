// Elementwise kernels: bias add and its gradient (column sums), BLAS-1 updates, copies, fills,
// clamping, the squared norm used by global-norm gradient clipping, and a non-finite count.
//
// Every loop runs on f32x4 with a scalar tail that does the arithmetic of one lane (plain
// mul + add, never the relaxed FMA: these kernels are memory-bound, and the strict and relaxed
// builds then give the same bits). Pointers need not be 16-byte aligned (v128.load/store accept
// any address); the Arena aligns them anyway.

/** y[i, j] += bias[j] for an [m×n] row-major y. */
export function f32_bias_add(y: usize, bias: usize, m: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const n4 = n & ~3;
  for (let i = 0; i < m; i++) {
    const row = y + <usize>i * rowBytes;
    let j = 0;
    for (; j < n4; j += 4) {
      const o = <usize>j << 2;
      v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
    }
  }
}

/**
 * out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j] for an [m×n] row-major x: the bias gradient.
 *
 * SIMD across columns: a block of 16 columns (one 64-byte line when rows are aligned) keeps four
 * f32x4 accumulators while it walks down the rows, so x is read once. Each column's sum is
 * ((x[0,j] + x[1,j]) + x[2,j]) + …, in row order, starting from 0; out[j] is added at the end,
 * as the formula reads. Columns in the 4-wide and scalar remainders sum in the same order, so a
 * column's result does not depend on where it sits.
 */
export function f32_col_sum(x: usize, out: usize, m: i32, n: i32, accumulate: i32): void {
  const rowBytes = <usize>n << 2;
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let p = x + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
      p += rowBytes;
    }
    const q = out + (<usize>j << 2);
    if (accumulate) {
      a0 = f32x4.add(v128.load(q), a0);
      a1 = f32x4.add(v128.load(q, 16), a1);
      a2 = f32x4.add(v128.load(q, 32), a2);
      a3 = f32x4.add(v128.load(q, 48), a3);
    }
    v128.store(q, a0);
    v128.store(q, a1, 16);
    v128.store(q, a2, 32);
    v128.store(q, a3, 48);
  }
  for (; j + 4 <= n; j += 4) {
    let a = f32x4.splat(0);
    let p = x + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      a = f32x4.add(a, v128.load(p));
      p += rowBytes;
    }
    const q = out + (<usize>j << 2);
    if (accumulate) a = f32x4.add(v128.load(q), a);
    v128.store(q, a);
  }
  for (; j < n; j++) {
    let a: f32 = 0;
    let p = x + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      a += load<f32>(p);
      p += rowBytes;
    }
    const q = out + (<usize>j << 2);
    if (accumulate) a = load<f32>(q) + a;
    store<f32>(q, a);
  }
}

/** y += alpha·x (rounded as alpha·x, then the add). x and y may be the same array. */
export function f32_axpy(n: i32, alpha: f32, x: usize, y: usize): void {
  const va = f32x4.splat(alpha);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** x *= alpha, in place. */
export function f32_scale(n: i32, alpha: f32, x: usize): void {
  const va = f32x4.splat(alpha);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), va));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * alpha);
  }
}

/** dst = src, n values; the ranges may overlap (memory.copy is a memmove). Bits are copied as
 *  they are, NaN payloads included. */
export function f32_copy(n: i32, src: usize, dst: usize): void {
  if (n > 0) memory.copy(dst, src, <usize>n << 2);
}

/** dst[i] = value. */
export function f32_fill(n: i32, value: f32, dst: usize): void {
  const v = f32x4.splat(value);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), value);
}

/**
 * x = min(max(x, lo), hi), in place, with wasm's f32.min/f32.max semantics in both paths: a NaN
 * x stays NaN, and −0 < +0. If lo > hi every value becomes hi. Returns how many x were NaN or
 * ±Infinity before the clamp (which would turn ±Infinity into lo or hi): gradient clipping by
 * value refuses those without a separate pass.
 */
export function f32_clamp(n: i32, lo: f32, hi: f32, x: usize): i32 {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const expMask = i32x4.splat(0x7f800000);
  let acc = i32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    acc = i32x4.sub(acc, i32x4.eq(v128.and(v, expMask), expMask)); // a true lane is −1
    v128.store(x + o, f32x4.min(f32x4.max(v, vlo), vhi));
  }
  let c = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) +
    i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    if ((reinterpret<u32>(v) & 0x7f800000) == 0x7f800000) c++;
    store<f32>(x + o, min<f32>(max<f32>(v, lo), hi));
  }
  return c;
}

/**
 * Σ x², accumulated in f64 (each square is exact in f64: 24-bit significands give 48-bit
 * products). Four f64 lanes (two f64x2) take elements i ≡ 0, 1, 2, 3 (mod 4); the tail is added
 * after the lanes are combined as ((l0 + l1) + (l2 + l3)). The order is fixed, so the result is
 * the same on every engine; its rounding error is that of four running sums of n/4 terms.
 * Used for global-norm gradient clipping (f32_scale by min(1, maxNorm / √Σ)).
 */
export function f32_sum_sq(n: i32, x: usize): f64 {
  let lo = f64x2.splat(0); // lanes 0, 1
  let hi = f64x2.splat(0); // lanes 2, 3
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) +
    (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

/**
 * How many of the n values are NaN or ±Infinity: those whose exponent bits are all ones.
 * Counts exactly for any n < 2³¹.
 */
export function f32_count_nonfinite(n: i32, x: usize): i32 {
  const expMask = i32x4.splat(0x7f800000); // exponent field of an f32
  let acc = i32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const e = v128.and(v128.load(x + (<usize>i << 2)), expMask);
    acc = i32x4.sub(acc, i32x4.eq(e, expMask)); // a true lane is −1
  }
  let c = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) +
    i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) c++;
  }
  return c;
}
