// Seeded, counter-based random numbers: Philox4x32-10.
// Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC11,
// https://doi.org/10.1145/2063384.2063405; constants and round structure as in Random123's
// philox.h, checked against its tests/kat_vectors (see test/random.test.ts).
//
// State: 32 bytes at `state`, eight little-endian u32 words:
//   [0] k0, [1] k1   the key: splitmix64(seed), low word first
//   [2] c0, [3] c1   block index base (64-bit, low word first); 0 after rng_seed
//   [4] c2, [5] c3   call index (64-bit, low word first); 0 after rng_seed
//   [6], [7]         spare, written as 0 by rng_seed and otherwise ignored
//
// Every generator call uses one call index: it reads blocks Philox(key, (c0c1 + b, c2c3)) for
// b = 0, 1, 2, … (c0c1 + b mod 2⁶⁴) as it needs them, then increments c2c3 by one (n = 0
// included). Blocks are computed four at a time, one per i32x4 lane; blocks computed beyond the
// last one a call needs are simply not used. So:
// - the values of a call are a pure function of (seed, number of calls since rng_seed): they do
//   not depend on the sizes or kinds of earlier calls, nor on how many words a rejection loop
//   took;
// - uniform, normal and bernoulli are prefix-consistent: out[i] comes from word i mod 4 of
//   block ⌊i/4⌋, so a call of n values gives the first n values of a call of m > n values made
//   from the same state;
// - two calls of n values are NOT one call of 2n values (each call starts a fresh stream).
// Setting the counter words by hand (as the known-answer test does) is allowed: a call of 4
// uniforms in [0, 1) from counter (c0, c1, c2, c3) returns the top 24 bits of that block.
//
// The arithmetic is integer (exact) or IEEE-exact f32/f64 operations, and the transcendental
// functions in f32_rand_normal are AssemblyScript's own Math (compiled into this module), so
// every engine produces the same bits.

import { storeLanes } from './simd';

// Philox4x32 constants (Random123 philox.h): round multipliers and Weyl key increments.
const PHILOX_M0: i32 = 0xD2511F53;
const PHILOX_M1: i32 = 0xCD9E8D57;
const PHILOX_W0: u32 = 0x9E3779B9; // ⌊(φ − 1)·2³²⌋, golden ratio
const PHILOX_W1: u32 = 0xBB67AE85; // ⌊(√3 − 1)·2³²⌋

/** The last four Philox blocks, 16 u32 words in stream order (static scratch, not state). */
const BLOCKS: usize = memory.data(64, 16);

/** High 32 bits of each lane's u32 × u32 product. */
// @ts-ignore: decorator
@inline function mulhi(a: v128, m: v128): v128 {
  return i32x4.shuffle(i64x2.extmul_low_i32x4_u(a, m), i64x2.extmul_high_i32x4_u(a, m), 1, 3, 5, 7);
}

/**
 * Blocks b … b+3 of the current call, Philox4x32-10(counter = (c0c1 + b + lane, c2c3), key),
 * computed in the four lanes of i32x4 and written to BLOCKS in stream order (block b + q at
 * BLOCKS + 16q). Callers that need fewer blocks ignore the rest.
 */
function philox4(state: usize, b: u64): void {
  const base = load<u64>(state, 8) + b;
  const call = load<u64>(state, 16);
  const l1 = base + 1, l2 = base + 2, l3 = base + 3; // 64-bit: carries reach c1
  let c0 = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(<i32>base),
    1, <i32>l1), 2, <i32>l2), 3, <i32>l3);
  let c1 = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(<i32>(base >>> 32)),
    1, <i32>(l1 >>> 32)), 2, <i32>(l2 >>> 32)), 3, <i32>(l3 >>> 32));
  let c2 = i32x4.splat(<i32>call);
  let c3 = i32x4.splat(<i32>(call >>> 32));
  let k0 = load<u32>(state);
  let k1 = load<u32>(state, 4);
  const m0 = i32x4.splat(PHILOX_M0);
  const m1 = i32x4.splat(PHILOX_M1);
  for (let r = 0; r < 10; r++) {
    // (c0, c1, c2, c3) ← (hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0))
    const hi0 = mulhi(c0, m0);
    const lo0 = i32x4.mul(c0, m0);
    const hi1 = mulhi(c2, m1);
    const lo1 = i32x4.mul(c2, m1);
    c0 = v128.xor(v128.xor(hi1, c1), i32x4.splat(k0));
    c1 = lo1;
    c2 = v128.xor(v128.xor(hi0, c3), i32x4.splat(k1));
    c3 = lo0;
    k0 += PHILOX_W0; // the bump after the 10th round is unused
    k1 += PHILOX_W1;
  }
  // Transpose: lane q of (c0, c1, c2, c3) is block b + q.
  const t0 = i32x4.shuffle(c0, c1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(c2, c3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(c0, c1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(c2, c3, 2, 6, 3, 7);
  v128.store(BLOCKS, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(BLOCKS, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 16);
  v128.store(BLOCKS, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 32);
  v128.store(BLOCKS, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 48);
}

/** The address of the block holding stream word i (i a multiple of 4), generating the next
 *  four blocks when i starts a new group of 16 words. */
// @ts-ignore: decorator
@inline function blockAddress(state: usize, i: i32): usize {
  const q = <usize>(i >> 2) & 3;
  if (q == 0) philox4(state, <u64>(i >> 2));
  return BLOCKS + (q << 4);
}

/** The block holding stream word i (i a multiple of 4), as i32x4. */
// @ts-ignore: decorator
@inline function nextBlock(state: usize, i: i32): v128 {
  return v128.load(blockAddress(state, i));
}

/** Ends a call: the next call gets the next call index. */
// @ts-ignore: decorator
@inline function endCall(state: usize): void {
  store<u64>(state, load<u64>(state, 16) + 1, 16);
}


/**
 * Seeds the generator with the 64-bit seed (seedHi·2³² + seedLo): key = splitmix64(seed) (one
 * step of Vigna's SplitMix64, http://prng.di.unimi.it/splitmix64.c), so seed 0 is as good as any
 * other and nearby seeds give unrelated keys; the counter and the spare words are zeroed.
 */
export function rng_seed(state: usize, seedLo: u32, seedHi: u32): void {
  let z = ((<u64>seedHi << 32) | <u64>seedLo) + 0x9E3779B97F4A7C15;
  z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >>> 27)) * 0x94D049BB133111EB;
  z = z ^ (z >>> 31);
  store<u64>(state, z);
  store<u64>(state, 0, 8);
  store<u64>(state, 0, 16);
  store<u64>(state, 0, 24);
}

/**
 * out[i] = lo + (hi − lo)·u, u = (top 24 bits of word i)·2⁻²⁴ ∈ [0, 1 − 2⁻²⁴], in f32. Rounding
 * could give exactly hi (e.g. lo = 1, hi = 2); such a value is replaced by the largest f32 below
 * hi, so every value lies in [lo, hi). Needs lo < hi and hi − lo finite (the TS layer checks);
 * lo = hi gives lo.
 */
export function f32_rand_uniform(state: usize, out: usize, n: i32, lo: f32, hi: f32): void {
  const hb = reinterpret<u32>(hi);
  const below: f32 = hi > 0 ? reinterpret<f32>(hb - 1) : hi < 0 ? reinterpret<f32>(hb + 1)
    : reinterpret<f32>(<u32>0x80000001); // −(smallest subnormal) below ±0
  const cap = f32x4.splat(max<f32>(below, lo));
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const range = f32x4.splat(hi - lo);
  const ulp24 = f32x4.splat(reinterpret<f32>(<u32>0x33800000)); // 2⁻²⁴ = 5.9604645e-8
  for (let i = 0; i < n; i += 4) {
    const u = f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(nextBlock(state, i), 8)), ulp24);
    const y = f32x4.add(f32x4.mul(u, range), vlo);
    storeLanes(out + (<usize>i << 2), v128.bitselect(y, cap, f32x4.lt(y, vhi)), min(n - i, 4));
  }
  endCall(state);
}

/**
 * out[i] = mean + std·z, z ~ N(0, 1), by the Box–Muller transform in f64 (AssemblyScript's
 * Math.log, Math.sqrt and Math.sincos, compiled into this module), one rounding to f32 at the
 * end. Words (0, 1) of a block give out[4b], out[4b + 1] = r·cos θ, r·sin θ and words (2, 3)
 * give out[4b + 2], out[4b + 3], with u1 = (w + 1)·2⁻³² ∈ (0, 1] (never log 0), r = √(−2 ln u1),
 * θ = 2π·w'·2⁻³². |z| ≤ √(64 ln 2) ≈ 6.66.
 */
export function f32_rand_normal(state: usize, out: usize, n: i32, mean: f64, std: f64): void {
  const inv32: f64 = 2.3283064365386963e-10; // 2⁻³²
  const twoPi: f64 = 6.283185307179586; // 2π rounded to f64
  for (let i = 0; i < n; i += 4) {
    const words = blockAddress(state, i);
    const k = min(n - i, 4);
    const p = out + (<usize>i << 2);
    for (let h = 0; h < k; h += 2) {
      const u1 = (<f64>load<u32>(words + (<usize>h << 2)) + 1) * inv32;
      const u2 = <f64>load<u32>(words + (<usize>h << 2), 4) * inv32;
      const r = Math.sqrt(-2 * Math.log(u1));
      NativeMath.sincos(twoPi * u2);
      store<f32>(p + (<usize>h << 2), <f32>(mean + std * (r * NativeMath.sincos_cos)));
      if (h + 1 < k) store<f32>(p + (<usize>h << 2), <f32>(mean + std * (r * NativeMath.sincos_sin)), 4);
    }
  }
  endCall(state);
}

/**
 * out[i] = 1 if word i < T else 0, T = ⌈p·2³²⌉: probability T/2³², within 2⁻³² of p (exactly p
 * for p = 0, p = 1 and multiples of 2⁻³²). p ≤ 0 or NaN gives all 0, p ≥ 1 all 1.
 */
export function f32_rand_bernoulli(state: usize, out: usize, n: i32, p: f64): void {
  const one = f32x4.splat(1);
  if (!(p > 0) || p >= 1) {
    fillLanes(out, n, p >= 1 ? one : f32x4.splat(0));
  } else {
    const tf = Math.ceil(p * 4294967296.0);
    if (tf >= 4294967296.0) {
      fillLanes(out, n, one);
    } else {
      const t = i32x4.splat(<i32><u32>tf);
      for (let i = 0; i < n; i += 4) {
        storeLanes(out + (<usize>i << 2), v128.and(i32x4.lt_u(nextBlock(state, i), t), one), min(n - i, 4));
      }
    }
  }
  endCall(state);
}

// @ts-ignore: decorator
@inline function fillLanes(out: usize, n: i32, v: v128): void {
  for (let i = 0; i < n; i += 4) storeLanes(out + (<usize>i << 2), v, min(n - i, 4));
}

/**
 * out (i32) = a uniformly random permutation of 0 … n−1: Durstenfeld's Fisher–Yates shuffle
 * (for i = n−1 down to 1, swap out[i] with out[j], j uniform in [0, i]), each j drawn without
 * bias by Lemire's multiply-and-reject method ("Fast Random Integer Generation in an Interval",
 * ACM TOMACS 2019, https://arxiv.org/abs/1805.10941). Words are read in order from the call's
 * blocks; the number of words depends on rejections, which only matters within this call.
 */
export function rand_permutation(state: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), i);
  let b: u64 = 0;
  let w = 16; // next word of BLOCKS to use; 16 = need four new blocks
  for (let i = n - 1; i > 0; i--) {
    const s = <u32>(i + 1);
    if (w == 16) { philox4(state, b); b += 4; w = 0; }
    let m = <u64>load<u32>(BLOCKS + (<usize>w << 2)) * <u64>s;
    w++;
    if (<u32>m < s) {
      const t: u32 = (<u32>0 - s) % s; // 2³² mod s: the size of the biased region
      while (<u32>m < t) {
        if (w == 16) { philox4(state, b); b += 4; w = 0; }
        m = <u64>load<u32>(BLOCKS + (<usize>w << 2)) * <u64>s;
        w++;
      }
    }
    const j = <i32>(m >>> 32);
    const pi = out + (<usize>i << 2);
    const pj = out + (<usize>j << 2);
    const tmp = load<i32>(pi);
    store<i32>(pi, load<i32>(pj));
    store<i32>(pj, tmp);
  }
  endCall(state);
}
