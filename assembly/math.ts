// The core's own transcendental functions, for f32 and f32x4: exp, expm1, log, log1p, tanh,
// sigmoid, softplus. Defined here (not taken from the host's Math) so every engine gets the same
// bits.
//
// Rules that keep those bits equal:
// - Each function exists twice, `name_f32(x: f32)` and `name_f32x4(x: v128)`, written as the
//   same sequence of IEEE operations (add, sub, mul, div, min, max, bit operations), so a scalar
//   tail element and a SIMD lane compute identical results.
// - No FMA, not even in the relaxed build: WebAssembly has no scalar fma, so a fused SIMD body
//   would round differently from its scalar tail (and f32x4.relaxed_madd may or may not fuse,
//   depending on the engine). These functions therefore never use simd.ts's `madd`.
// - Rounding to an integer uses the "magic number" trick (add 1.5·2^23, the integer lands in the
//   low mantissa bits), exponent scaling builds 2^n from bits, so no float→int conversion is used.
// - NaN in gives NaN out, but the sign and payload of a NaN are not specified by WebAssembly and
//   may differ between engines; only non-NaN results are promised bit-identical.
//
// Measured accuracy against float64 references (test/math.test.ts: dense grids, log-spaced
// magnitudes down to subnormals, random bit patterns and special values, 2.4e5–4e5 points per
// function; ULP = the f32 spacing at the exact result, so correct rounding is ≤ 0.5 ULP):
//   exp      max 0.92 ULP on [−104, 89] (subnormal results included); +Inf above 88.7228, 0 below
//            −103.98 (asserted ≤ 1)
//   log      max 0.76 ULP on (0, +Inf), subnormal inputs included (asserted ≤ 1)
//   expm1    max 0.82 ULP on [−20, 0], measured through ELU (asserted ≤ 1); x > 0 is not used
//            by any kernel and only covered by its construction
//   tanh     max 1.94 ULP for |x| ≤ 128 (asserted ≤ 2); exactly ±1 beyond |x| ≈ 9.01
//   sigmoid  max 2.00 ULP (asserted ≤ 2.5); 0 and 1 at ∓400 and ∓Inf
//   softplus max 1.69 ULP, i.e. log1p(exp(x)) measured end to end (asserted ≤ 2)
// Keep these figures and the test's bounds in sync when the code changes.

// ---- Constants, as bit patterns with their readable values ----------------------------------

// @ts-ignore: decorator
@inline const LOG2E: f32 = reinterpret<f32>(0x3FB8AA3B); // 1.44269502 = log2(e)
// @ts-ignore: decorator
@inline const MAGIC: f32 = reinterpret<f32>(0x4B400000); // 12582912 = 1.5·2^23: x + MAGIC rounds x to an integer
// @ts-ignore: decorator
@inline const MAGIC_BITS: i32 = 0x4B400000;
// Cody-Waite split of ln 2: LN2_HI has 15 significant bits, so n·LN2_HI is exact for |n| < 512.
// @ts-ignore: decorator
@inline const LN2_HI: f32 = reinterpret<f32>(0x3F317200); // 0.693145751953125
// @ts-ignore: decorator
@inline const LN2_LO: f32 = reinterpret<f32>(0x35BFBE8E); // 1.42860677e-6 = ln 2 − LN2_HI
// exp's input clamp. Above 89, n = 128 still builds (as 2^64·2^64) and the product overflows to
// +Inf as it should; at −104, n = −150 and the result rounds to 0 (exp_f32(−104) < 2^−150).
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 89.0;
// @ts-ignore: decorator
@inline const EXP_LO: f32 = -104.0;
// expm1's lower clamp: expm1_f32(−18) rounds to −1, and n = −26 keeps 2^n normal.
// @ts-ignore: decorator
@inline const EXPM1_LO: f32 = -18.0;
// log: Cephes logf (Moshier), split of ln 2 with 9 significant bits in the high part.
// @ts-ignore: decorator
@inline const LOG_C1: f32 = reinterpret<f32>(0x3F318000); // 0.693359375
// @ts-ignore: decorator
@inline const LOG_C2: f32 = reinterpret<f32>(0xB95E8083); // −2.12194440e-4 = ln 2 − LOG_C1
// @ts-ignore: decorator
@inline const SQRT_HALF: f32 = reinterpret<f32>(0x3F3504F3); // 0.707106769
// @ts-ignore: decorator
@inline const FLT_MIN: f32 = reinterpret<f32>(0x00800000); // 1.17549435e-38, smallest normal
// @ts-ignore: decorator
@inline const TWO23: f32 = reinterpret<f32>(0x4B000000); // 8388608 = 2^23
// @ts-ignore: decorator
@inline const QNAN: f32 = reinterpret<f32>(0x7FC00000);
// @ts-ignore: decorator
@inline const INF: f32 = reinterpret<f32>(0x7F800000);
// @ts-ignore: decorator
@inline const SIGN_MASK: i32 = 0x80000000;
/** PyTorch's softplus threshold (beta = 1): above it softplus_f32(x) = x and its derivative is 1. */
// @ts-ignore: decorator
@inline export const SOFTPLUS_THRESHOLD: f32 = 20.0;

// expm1_f32(r) = r + r²·q(r) on |r| ≤ ln2/2 (+ rounding slack), q = Σ r^k/(k+2)!, k = 0..6 (Taylor,
// degree 8 in all): truncation error ≤ |r|^9/9! < 2e-10, i.e. < 0.01 ULP of expm1_f32(r). Used by
// expm1 and tanh, whose results near 0 need it (degree 7 raised tanh's error over 2 ULP).
// @ts-ignore: decorator
@inline const P0: f32 = 0.5;
// @ts-ignore: decorator
@inline const P1: f32 = reinterpret<f32>(0x3E2AAAAB); // 1/6
// @ts-ignore: decorator
@inline const P2: f32 = reinterpret<f32>(0x3D2AAAAB); // 1/24
// @ts-ignore: decorator
@inline const P3: f32 = reinterpret<f32>(0x3C088889); // 1/120
// @ts-ignore: decorator
@inline const P4: f32 = reinterpret<f32>(0x3AB60B61); // 1/720
// @ts-ignore: decorator
@inline const P5: f32 = reinterpret<f32>(0x39500D01); // 1/5040
// @ts-ignore: decorator
@inline const P6: f32 = reinterpret<f32>(0x37D00D01); // 1/40320

// exp alone: e^r = 1 + r + r²·q(r) with q of degree 4 (degree 6 in all), a minimax fit of
// (e^r − 1 − r)/r² weighted for the relative error of e^r on |r| ≤ 1.002·ln2/2 (Lawson
// iterations on 20,001 points in float64, then rounded to f32): max 3.1e-9 relative (0.05 ULP).
// Two multiply-adds fewer than P's series; exp's measured error is unchanged (0.92 ULP).
// @ts-ignore: decorator
@inline const Q0: f32 = reinterpret<f32>(0x3EFFFFFE); // 0.49999994
// @ts-ignore: decorator
@inline const Q1: f32 = reinterpret<f32>(0x3E2AAA48); // 0.16666520
// @ts-ignore: decorator
@inline const Q2: f32 = reinterpret<f32>(0x3D2AAC7C); // 0.041668400
// @ts-ignore: decorator
@inline const Q3: f32 = reinterpret<f32>(0x3C091D81); // 0.0083688507
// @ts-ignore: decorator
@inline const Q4: f32 = reinterpret<f32>(0x3AB51117); // 0.0013814297

// log: Cephes logf polynomial, log_f32(1+f) = f − f²/2 + f³·L(f) on f ∈ [√½ − 1, √2 − 1].
// @ts-ignore: decorator
@inline const L0: f32 = 7.0376836292e-2;
// @ts-ignore: decorator
@inline const L1: f32 = -1.1514610310e-1;
// @ts-ignore: decorator
@inline const L2: f32 = 1.1676998740e-1;
// @ts-ignore: decorator
@inline const L3: f32 = -1.2420140846e-1;
// @ts-ignore: decorator
@inline const L4: f32 = 1.4249322787e-1;
// @ts-ignore: decorator
@inline const L5: f32 = -1.6668057665e-1;
// @ts-ignore: decorator
@inline const L6: f32 = 2.0000714765e-1;
// @ts-ignore: decorator
@inline const L7: f32 = -2.4999993993e-1;
// @ts-ignore: decorator
@inline const L8: f32 = 3.3333331174e-1;

// ---- Small f32x4 helpers ---------------------------------------------------------------------

// @ts-ignore: decorator
@inline function sp(c: f32): v128 {
  return f32x4.splat(c);
}
// @ts-ignore: decorator
@inline function ip(c: i32): v128 {
  return i32x4.splat(c);
}
// @ts-ignore: decorator
@inline function fbits(x: f32): i32 {
  return reinterpret<i32>(x);
}
// @ts-ignore: decorator
@inline function ffrom(b: i32): f32 {
  return reinterpret<f32>(b);
}

// ---- SIMD constants in memory; pmin/pmax --------------------------------------------------------
// Clamps to a constant use f32x4.pmin/pmax (one minps/maxps) rather than f32x4.min/max, which
// V8 lowers to about eight instructions to get NaN and ±0 right: with x as the first operand,
// pmax(x, c) = x < c ? c : x and pmin(x, c) = c < x ? c : x give min/max's bits for every
// non-NaN x (c is never 0 where the sign of a zero result could matter) and keep a NaN x.
//
// V8 (11.x, x64) materializes every v128.const where it is used, inside the loop, with several
// instructions (64-bit immediates moved in through general registers), and Binaryen folds a
// splat of a constant into a v128.const. The f32x4 functions below therefore read their
// constants from static data: one load each, often folded into the arithmetic. The same values
// and operations, so the same bits. (Measured on sigmoid: see activations.ts.)

/** The 4 lanes at p (a constant below). */
// @ts-ignore: decorator
@inline function vk(p: usize): v128 {
  return v128.load(p);
}

// @ts-ignore: decorator
@lazy const V_P6 = memory.data<f32>([P6, P6, P6, P6], 16);
// @ts-ignore: decorator
@lazy const V_P5 = memory.data<f32>([P5, P5, P5, P5], 16);
// @ts-ignore: decorator
@lazy const V_Q4 = memory.data<f32>([Q4, Q4, Q4, Q4], 16);
// @ts-ignore: decorator
@lazy const V_Q3 = memory.data<f32>([Q3, Q3, Q3, Q3], 16);
// @ts-ignore: decorator
@lazy const V_Q2 = memory.data<f32>([Q2, Q2, Q2, Q2], 16);
// @ts-ignore: decorator
@lazy const V_Q1 = memory.data<f32>([Q1, Q1, Q1, Q1], 16);
// @ts-ignore: decorator
@lazy const V_Q0 = memory.data<f32>([Q0, Q0, Q0, Q0], 16);
// @ts-ignore: decorator
@lazy const V_P4 = memory.data<f32>([P4, P4, P4, P4], 16);
// @ts-ignore: decorator
@lazy const V_P3 = memory.data<f32>([P3, P3, P3, P3], 16);
// @ts-ignore: decorator
@lazy const V_P2 = memory.data<f32>([P2, P2, P2, P2], 16);
// @ts-ignore: decorator
@lazy const V_P1 = memory.data<f32>([P1, P1, P1, P1], 16);
// @ts-ignore: decorator
@lazy const V_P0 = memory.data<f32>([P0, P0, P0, P0], 16);
// @ts-ignore: decorator
@lazy const V_EXP_LO = memory.data<f32>([EXP_LO, EXP_LO, EXP_LO, EXP_LO], 16);
// @ts-ignore: decorator
@lazy const V_EXP_HI = memory.data<f32>([EXP_HI, EXP_HI, EXP_HI, EXP_HI], 16);
// @ts-ignore: decorator
@lazy const V_LOG2E = memory.data<f32>([LOG2E, LOG2E, LOG2E, LOG2E], 16);
// @ts-ignore: decorator
@lazy const V_MAGIC = memory.data<f32>([MAGIC, MAGIC, MAGIC, MAGIC], 16);
// @ts-ignore: decorator
@lazy const V_LN2_HI = memory.data<f32>([LN2_HI, LN2_HI, LN2_HI, LN2_HI], 16);
// @ts-ignore: decorator
@lazy const V_LN2_LO = memory.data<f32>([LN2_LO, LN2_LO, LN2_LO, LN2_LO], 16);
// @ts-ignore: decorator
@lazy const V_ONE = memory.data<f32>([1.0, 1.0, 1.0, 1.0], 16);
// @ts-ignore: decorator
@lazy const V_EXPM1_LO = memory.data<f32>([EXPM1_LO, EXPM1_LO, EXPM1_LO, EXPM1_LO], 16);
// @ts-ignore: decorator
@lazy const V_FLT_MIN = memory.data<f32>([FLT_MIN, FLT_MIN, FLT_MIN, FLT_MIN], 16);
// @ts-ignore: decorator
@lazy const V_TWO23 = memory.data<f32>([TWO23, TWO23, TWO23, TWO23], 16);
// @ts-ignore: decorator
@lazy const V_SQRT_HALF = memory.data<f32>([SQRT_HALF, SQRT_HALF, SQRT_HALF, SQRT_HALF], 16);
// @ts-ignore: decorator
@lazy const V_L0 = memory.data<f32>([L0, L0, L0, L0], 16);
// @ts-ignore: decorator
@lazy const V_L1 = memory.data<f32>([L1, L1, L1, L1], 16);
// @ts-ignore: decorator
@lazy const V_L2 = memory.data<f32>([L2, L2, L2, L2], 16);
// @ts-ignore: decorator
@lazy const V_L3 = memory.data<f32>([L3, L3, L3, L3], 16);
// @ts-ignore: decorator
@lazy const V_L4 = memory.data<f32>([L4, L4, L4, L4], 16);
// @ts-ignore: decorator
@lazy const V_L5 = memory.data<f32>([L5, L5, L5, L5], 16);
// @ts-ignore: decorator
@lazy const V_L6 = memory.data<f32>([L6, L6, L6, L6], 16);
// @ts-ignore: decorator
@lazy const V_L7 = memory.data<f32>([L7, L7, L7, L7], 16);
// @ts-ignore: decorator
@lazy const V_L8 = memory.data<f32>([L8, L8, L8, L8], 16);
// @ts-ignore: decorator
@lazy const V_LOG_C2 = memory.data<f32>([LOG_C2, LOG_C2, LOG_C2, LOG_C2], 16);
// @ts-ignore: decorator
@lazy const V_MINUS_HALF = memory.data<f32>([-0.5, -0.5, -0.5, -0.5], 16);
// @ts-ignore: decorator
@lazy const V_LOG_C1 = memory.data<f32>([LOG_C1, LOG_C1, LOG_C1, LOG_C1], 16);
// @ts-ignore: decorator
@lazy const V_QNAN = memory.data<f32>([QNAN, QNAN, QNAN, QNAN], 16);
// @ts-ignore: decorator
@lazy const V_NEG_INF = memory.data<f32>([-INF, -INF, -INF, -INF], 16);
// @ts-ignore: decorator
@lazy const V_INF = memory.data<f32>([INF, INF, INF, INF], 16);
// @ts-ignore: decorator
@lazy const V_MINUS_TWO = memory.data<f32>([-2.0, -2.0, -2.0, -2.0], 16);
// @ts-ignore: decorator
@lazy const V_TANH_LO = memory.data<f32>([TANH_LO, TANH_LO, TANH_LO, TANH_LO], 16);
// @ts-ignore: decorator
@lazy const V_TWO = memory.data<f32>([2.0, 2.0, 2.0, 2.0], 16);
// @ts-ignore: decorator
@lazy const V_TANH_SPLIT = memory.data<f32>([TANH_SPLIT, TANH_SPLIT, TANH_SPLIT, TANH_SPLIT], 16);
// @ts-ignore: decorator
@lazy const V_SOFTPLUS_THRESHOLD = memory.data<f32>([SOFTPLUS_THRESHOLD, SOFTPLUS_THRESHOLD, SOFTPLUS_THRESHOLD, SOFTPLUS_THRESHOLD], 16);
// @ts-ignore: decorator
@lazy const V_MAGIC_BITS = memory.data<i32>([MAGIC_BITS, MAGIC_BITS, MAGIC_BITS, MAGIC_BITS], 16);
// @ts-ignore: decorator
@lazy const V_MAGIC_BITS_254 = memory.data<i32>([MAGIC_BITS - 254, MAGIC_BITS - 254, MAGIC_BITS - 254, MAGIC_BITS - 254], 16);
// @ts-ignore: decorator
@lazy const V_I127 = memory.data<i32>([127, 127, 127, 127], 16);
// @ts-ignore: decorator
@lazy const V_I30 = memory.data<i32>([30, 30, 30, 30], 16);
// @ts-ignore: decorator
@lazy const V_I126 = memory.data<i32>([126, 126, 126, 126], 16);
// @ts-ignore: decorator
@lazy const V_I_M23 = memory.data<i32>([-23, -23, -23, -23], 16);
// @ts-ignore: decorator
@lazy const V_IX007FFFFF = memory.data<i32>([0x007FFFFF, 0x007FFFFF, 0x007FFFFF, 0x007FFFFF], 16);
// @ts-ignore: decorator
@lazy const V_IX3F000000 = memory.data<i32>([0x3F000000, 0x3F000000, 0x3F000000, 0x3F000000], 16);
// @ts-ignore: decorator
@lazy const V_SIGN_MASK = memory.data<i32>([SIGN_MASK, SIGN_MASK, SIGN_MASK, SIGN_MASK], 16);

// ---- expm1 polynomial on the reduced argument ------------------------------------------------

// @ts-ignore: decorator
@inline function expm1Poly(r: f32): f32 {
  let q = P6;
  q = q * r + P5;
  q = q * r + P4;
  q = q * r + P3;
  q = q * r + P2;
  q = q * r + P1;
  q = q * r + P0;
  return r + (r * r) * q;
}
// @ts-ignore: decorator
@inline function expm1Poly4(r: v128): v128 {
  let q = vk(V_P6);
  q = f32x4.add(f32x4.mul(q, r), vk(V_P5));
  q = f32x4.add(f32x4.mul(q, r), vk(V_P4));
  q = f32x4.add(f32x4.mul(q, r), vk(V_P3));
  q = f32x4.add(f32x4.mul(q, r), vk(V_P2));
  q = f32x4.add(f32x4.mul(q, r), vk(V_P1));
  q = f32x4.add(f32x4.mul(q, r), vk(V_P0));
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q));
}

// Estrin's scheme: q = (Q0 + Q1·r) + r²·((Q2 + Q3·r) + r²·Q4), a dependency chain of 5 operations
// instead of Horner's 8 for the same count (the sigmoid loop is bound by this chain's latency).
// @ts-ignore: decorator
@inline function expPoly(r: f32): f32 {
  const r2 = r * r;
  const q = (Q0 + Q1 * r) + r2 * ((Q2 + Q3 * r) + r2 * Q4);
  return r + r2 * q;
}
// @ts-ignore: decorator
@inline function expPoly4(r: v128): v128 {
  const r2 = f32x4.mul(r, r);
  const lo = f32x4.add(vk(V_Q0), f32x4.mul(vk(V_Q1), r));
  const hi = f32x4.add(f32x4.add(vk(V_Q2), f32x4.mul(vk(V_Q3), r)), f32x4.mul(r2, vk(V_Q4)));
  return f32x4.add(r, f32x4.mul(r2, f32x4.add(lo, f32x4.mul(r2, hi))));
}

// ---- exp -------------------------------------------------------------------------------------

/**
 * e^x. x = n·ln2 + r with n = round(x·log2 e) and |r| ≤ ln2/2 (Cody-Waite, two-part ln 2);
 * e^r = 1 + expPoly(r); the result is scaled by 2^n in two steps (2^⌊n/2⌋ · 2^(n−⌊n/2⌋)), both
 * normal numbers, so n = 128 (results near FLT_MAX) and n down to −150 (subnormal results, one
 * rounding) both work. x > 88.7228 → +Inf, x < −103.98 → 0, NaN → NaN.
 */
export function exp_f32(x: f32): f32 {
  const xc = min<f32>(max<f32>(x, EXP_LO), EXP_HI);
  const nb = xc * LOG2E + MAGIC;
  const n = nb - MAGIC;
  let r = xc - n * LN2_HI;
  r = r - n * LN2_LO;
  const p = expPoly(r);
  // t = n + 254 = (⌊n/2⌋ + 127) + (n − ⌊n/2⌋ + 127): the two biased exponents, split by a shift
  const t = fbits(nb) - (MAGIC_BITS - 254);
  const s1 = (t >> 1) << 23;
  return ((p + 1.0) * ffrom(s1)) * ffrom((t << 23) - s1);
}
export function exp_f32x4(x: v128): v128 {
  return exp4(x, true);
}
/** exp_f32x4's body, inlined where a loop is mostly this (sigmoid4): a call per vector costs
 *  the call and reloads every constant. `upper` false drops the clamp at EXP_HI, for x ≤ 0. */
// @ts-ignore: decorator
@inline export function exp4(x: v128, upper: bool): v128 {
  const lo = f32x4.pmax(x, vk(V_EXP_LO));
  const xc = upper ? f32x4.pmin(lo, vk(V_EXP_HI)) : lo;
  const magic = vk(V_MAGIC);
  const nb = f32x4.add(f32x4.mul(xc, vk(V_LOG2E)), magic);
  const n = f32x4.sub(nb, magic);
  let r = f32x4.sub(xc, f32x4.mul(n, vk(V_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, vk(V_LN2_LO)));
  const p = expPoly4(r);
  const t = i32x4.sub(nb, vk(V_MAGIC_BITS_254));
  const s1 = i32x4.shl(i32x4.shr_s(t, 1), 23);
  return f32x4.mul(f32x4.mul(f32x4.add(p, vk(V_ONE)), s1), i32x4.sub(i32x4.shl(t, 23), s1));
}

// ---- expm1 -----------------------------------------------------------------------------------

/**
 * e^x − 1, accurate near 0 (used by ELU and tanh). Same reduction as exp; then
 * n < 0: 2^n·p + (2^n − 1), where 2^n − 1 is exact for n ≥ −24;
 * n ≥ 0: (p + (1 − 2^−n))·2^n, where 1 − 2^−n is exact for n ≤ 24 (and rounds to 1 beyond).
 * x < −18 gives −1, ±0 gives ±0.
 */
export function expm1_f32(x: f32): f32 {
  const xc = min<f32>(max<f32>(x, EXPM1_LO), EXP_HI);
  const nb = xc * LOG2E + MAGIC;
  const n = nb - MAGIC;
  let r = xc - n * LN2_HI;
  r = r - n * LN2_LO;
  const p = expm1Poly(r);
  const ni = fbits(nb) - MAGIC_BITS;
  // n < 0 (n ≥ −26 after the clamp, so 2^n is normal)
  const s = ffrom((ni + 127) << 23);
  const neg = s * p + (s - 1.0);
  // n ≥ 0
  const c = <f32>1.0 - ffrom((127 - min<i32>(ni, 30)) << 23);
  const n1 = ni >> 1;
  const n2 = ni - n1;
  const pos = ((p + c) * ffrom((n1 + 127) << 23)) * ffrom((n2 + 127) << 23);
  const res = select<f32>(neg, pos, ni < 0);
  return select<f32>(x, res, x == 0);
}
export function expm1_f32x4(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, vk(V_EXPM1_LO)), vk(V_EXP_HI));
  const nb = f32x4.add(f32x4.mul(xc, vk(V_LOG2E)), vk(V_MAGIC));
  const n = f32x4.sub(nb, vk(V_MAGIC));
  let r = f32x4.sub(xc, f32x4.mul(n, vk(V_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, vk(V_LN2_LO)));
  const p = expm1Poly4(r);
  const ni = i32x4.sub(nb, vk(V_MAGIC_BITS));
  const s = i32x4.shl(i32x4.add(ni, vk(V_I127)), 23);
  const neg = f32x4.add(f32x4.mul(s, p), f32x4.sub(s, vk(V_ONE)));
  const c = f32x4.sub(vk(V_ONE), i32x4.shl(i32x4.sub(vk(V_I127), i32x4.min_s(ni, vk(V_I30))), 23));
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, vk(V_I127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, vk(V_I127)), 23);
  const pos = f32x4.mul(f32x4.mul(f32x4.add(p, c), s1), s2);
  const res = v128.bitselect(neg, pos, i32x4.lt_s(ni, ip(0)));
  return v128.bitselect(x, res, f32x4.eq(x, sp(0.0)));
}

// ---- log -------------------------------------------------------------------------------------

/**
 * Natural log (Cephes logf). x = 2^e·m with m ∈ [√½, √2), f = m − 1,
 * log x = f − f²/2 + f³·L(f) + e·ln2 (ln 2 in two parts). Subnormal x is first scaled by 2^23.
 * log_f32(±0) = −Inf, log_f32(x < 0) = NaN, log_f32(+Inf) = +Inf, log_f32(NaN) = NaN.
 */
export function log_f32(x: f32): f32 {
  const tiny = x < FLT_MIN;
  const xs = select<f32>(x * TWO23, x, tiny);
  const bits = fbits(xs);
  let e = (<i32>(<u32>bits >> 23)) - 126 + select<i32>(-23, 0, tiny);
  let m = ffrom((bits & 0x007FFFFF) | 0x3F000000); // m ∈ [0.5, 1)
  const lo = m < SQRT_HALF;
  e = e - select<i32>(1, 0, lo);
  const f = select<f32>(m + m, m, lo) - 1.0;
  const ef = <f32>e;
  const z = f * f;
  let y = L0;
  y = y * f + L1;
  y = y * f + L2;
  y = y * f + L3;
  y = y * f + L4;
  y = y * f + L5;
  y = y * f + L6;
  y = y * f + L7;
  y = y * f + L8;
  y = (y * f) * z;
  y = y + ef * LOG_C2;
  y = y + z * -0.5;
  let res = f + y;
  res = res + ef * LOG_C1;
  res = select<f32>(QNAN, res, x < 0);
  res = select<f32>(-INF, res, x == 0);
  return select<f32>(x, res, x != x || x == INF);
}
export function log_f32x4(x: v128): v128 {
  const tiny = f32x4.lt(x, vk(V_FLT_MIN));
  const bits = v128.bitselect(f32x4.mul(x, vk(V_TWO23)), x, tiny);
  let e = i32x4.add(i32x4.sub(i32x4.shr_u(bits, 23), vk(V_I126)), v128.and(tiny, vk(V_I_M23)));
  const m = v128.or(v128.and(bits, vk(V_IX007FFFFF)), vk(V_IX3F000000));
  const lo = f32x4.lt(m, vk(V_SQRT_HALF));
  e = i32x4.add(e, lo); // lo is −1 where set
  const f = f32x4.sub(v128.bitselect(f32x4.add(m, m), m, lo), vk(V_ONE));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let y = vk(V_L0);
  y = f32x4.add(f32x4.mul(y, f), vk(V_L1));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L2));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L3));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L4));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L5));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L6));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L7));
  y = f32x4.add(f32x4.mul(y, f), vk(V_L8));
  y = f32x4.mul(f32x4.mul(y, f), z);
  y = f32x4.add(y, f32x4.mul(ef, vk(V_LOG_C2)));
  y = f32x4.add(y, f32x4.mul(z, vk(V_MINUS_HALF)));
  let res = f32x4.add(f, y);
  res = f32x4.add(res, f32x4.mul(ef, vk(V_LOG_C1)));
  res = v128.bitselect(vk(V_QNAN), res, f32x4.lt(x, sp(0.0)));
  res = v128.bitselect(vk(V_NEG_INF), res, f32x4.eq(x, sp(0.0)));
  return v128.bitselect(x, res, v128.or(f32x4.ne(x, x), f32x4.eq(x, vk(V_INF))));
}

// ---- log1p -----------------------------------------------------------------------------------

/**
 * log_f32(1 + u) without losing u when it is tiny: w = 1 + u, log1p_f32(u) = log_f32(w) − ((w − 1) − u)/w
 * ((w − 1) − u is exactly the rounding error of 1 + u). log1p_f32(−1) = −Inf, log1p_f32(+Inf) = +Inf.
 */
export function log1p_f32(u: f32): f32 {
  const w = u + 1.0;
  const lw = log_f32(w);
  const c = ((w - 1.0) - u) / w;
  return select<f32>(lw, lw - c, w == 0 || w == INF);
}
export function log1p_f32x4(u: v128): v128 {
  const w = f32x4.add(u, vk(V_ONE));
  const lw = log_f32x4(w);
  const c = f32x4.div(f32x4.sub(f32x4.sub(w, vk(V_ONE)), u), w);
  const special = v128.or(f32x4.eq(w, sp(0.0)), f32x4.eq(w, vk(V_INF)));
  return v128.bitselect(lw, f32x4.sub(lw, c), special);
}

// ---- tanh ------------------------------------------------------------------------------------

// Where tanh switches formula: tanh(0.5493) ≈ 0.5 (see tanh_f32).
// @ts-ignore: decorator
@inline const TANH_LO: f32 = -40.0; // clamp of −2|x|: e^−40 ≈ 4e−18, tanh is ±1 long before
// @ts-ignore: decorator
@inline const TANH_SPLIT: f32 = 0.5493;

/**
 * tanh, from one exp-style reduction of −2|x| (clamped at −40; tanh is ±1 from |x| ≈ 9.01):
 * |x| ≤ 0.5493: −t/(t + 2) with t = expm1(−2|x|), accurate near 0 (expm1 keeps the leading term);
 * above: 1 − 2u/(1 + u) with u = e^(−2|x|), where the subtracted term carries its full relative
 * accuracy (the t form would round t near −1). The sign is copied from x (tanh(−0) = −0); the
 * result is exactly ±1 beyond |x| ≈ 9.01 and never NaN for non-NaN x.
 */
export function tanh_f32(x: f32): f32 {
  const a = abs<f32>(x);
  const xm = max<f32>(a * -2.0, TANH_LO);
  const nb = xm * LOG2E + MAGIC;
  const n = nb - MAGIC;
  let r = xm - n * LN2_HI;
  r = r - n * LN2_LO;
  const p = expm1Poly(r);
  const s = ffrom((fbits(nb) - MAGIC_BITS + 127) << 23); // 2^n, n ∈ [−58, 0]
  const t = s * p + (s - 1.0); // expm1(−2|x|)
  const u = (p + 1.0) * s; // exp(−2|x|)
  const small = -t / (t + 2.0);
  const large = <f32>1.0 - (u + u) / (u + 1.0);
  const res = abs<f32>(select<f32>(large, small, a > TANH_SPLIT));
  return ffrom(fbits(res) | (fbits(x) & SIGN_MASK));
}
export function tanh_f32x4(x: v128): v128 {
  const one = vk(V_ONE);
  const a = f32x4.abs(x);
  const xm = f32x4.pmax(f32x4.mul(a, vk(V_MINUS_TWO)), vk(V_TANH_LO));
  const nb = f32x4.add(f32x4.mul(xm, vk(V_LOG2E)), vk(V_MAGIC));
  const n = f32x4.sub(nb, vk(V_MAGIC));
  let r = f32x4.sub(xm, f32x4.mul(n, vk(V_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, vk(V_LN2_LO)));
  const p = expm1Poly4(r);
  const s = i32x4.shl(i32x4.add(i32x4.sub(nb, vk(V_MAGIC_BITS)), vk(V_I127)), 23);
  const t = f32x4.add(f32x4.mul(s, p), f32x4.sub(s, one));
  const u = f32x4.mul(f32x4.add(p, one), s);
  const small = f32x4.div(f32x4.neg(t), f32x4.add(t, vk(V_TWO)));
  const large = f32x4.sub(one, f32x4.div(f32x4.add(u, u), f32x4.add(u, one)));
  const res = f32x4.abs(v128.bitselect(large, small, f32x4.gt(a, vk(V_TANH_SPLIT))));
  return v128.or(res, v128.and(x, vk(V_SIGN_MASK)));
}

// ---- sigmoid ---------------------------------------------------------------------------------

/**
 * σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, with e = exp_f32(−|x|) ∈ [0, 1]: no overflow
 * and full relative accuracy in both tails (σ(−100) ≈ 3.7e−44 is a subnormal, σ(−400) = 0).
 */
export function sigmoid_f32(x: f32): f32 {
  const e = exp_f32(-abs<f32>(x));
  return select<f32>(1.0, e, x >= 0) / (e + 1.0);
}
export function sigmoid_f32x4(x: v128): v128 {
  return sigmoid4(x);
}
/** sigmoid_f32x4's body, inlined into the sigmoid activation's loops. */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const e = exp4(v128.or(x, vk(V_SIGN_MASK)), false); // e^−|x|
  const one = vk(V_ONE);
  return f32x4.div(v128.bitselect(one, e, f32x4.ge(x, sp(0.0))), f32x4.add(e, one));
}

// ---- softplus --------------------------------------------------------------------------------

/**
 * softplus_f32(x) = log_f32(1 + e^x) = max(x, 0) + log1p_f32(exp_f32(−|x|)), and x itself above
 * SOFTPLUS_THRESHOLD = 20 as in PyTorch (beta = 1). Finite for every finite x.
 */
export function softplus_f32(x: f32): f32 {
  const v = max<f32>(x, 0.0) + log1p_f32(exp_f32(-abs<f32>(x)));
  return select<f32>(x, v, x > SOFTPLUS_THRESHOLD);
}
export function softplus_f32x4(x: v128): v128 {
  const v = f32x4.add(f32x4.pmax(x, sp(0.0)), log1p_f32x4(exp_f32x4(f32x4.neg(f32x4.abs(x)))));
  return v128.bitselect(x, v, f32x4.gt(x, vk(V_SOFTPLUS_THRESHOLD)));
}
