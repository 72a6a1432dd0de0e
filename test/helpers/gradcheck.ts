// Finite-difference helpers for the gradient tests (STYLE point 4) and a ULP measure for the
// accuracy tests. Plain TypeScript: runs in Node and in the browser.

/** Central difference of a float64 function: (f(x + eps) − f(x − eps)) / 2eps. */
export function centralDiff64(f: (x: number) => number, x: number, eps = 1e-6): number {
  return (f(x + eps) - f(x - eps)) / (2 * eps);
}

/**
 * Central difference in float32: the inputs x ± eps are rounded to f32 (they are what the kernel
 * sees) and the step is their actual difference. `f` maps a batch of f32 inputs to outputs, so
 * one kernel call evaluates every point.
 */
export function centralDiff32(
  f: (x: Float32Array) => ArrayLike<number>,
  x: Float32Array,
  eps: number,
): Float64Array {
  const xp = new Float32Array(x.length);
  const xm = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    xp[i] = x[i] + eps;
    xm[i] = x[i] - eps;
  }
  const fp = f(xp);
  const fm = f(xm);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (fp[i] - fm[i]) / (xp[i] - xm[i]);
  return out;
}

/** Worst violation of |a − e| ≤ atol + rtol·|e| as a ratio (> 1 means the check fails). */
export function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const r = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(r <= worst)) worst = r; // NaN counts as the worst
  }
  return worst;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** The spacing of float32 numbers around |v| (subnormal spacing 2^−149 below 2^−126). */
export function ulpF32(v: number): number {
  f64[0] = Math.abs(v);
  const e = ((u32[1] >>> 20) & 0x7ff) - 1023; // little-endian: high word second
  return 2 ** (Math.max(e, -126) - 23);
}

/**
 * Error of an f32 result against an exact (float64) reference, in float32 ULPs of the reference.
 * Both NaN, or equal (including infinities), is 0; an infinity or NaN on one side only is Infinity.
 * A finite reference beyond FLT_MAX counts as +Inf (that is what correct rounding gives).
 */
export function ulpError(got: number, ref: number): number {
  if (Number.isNaN(got) || Number.isNaN(ref)) return Number.isNaN(got) && Number.isNaN(ref) ? 0 : Infinity;
  const r32 = Math.fround(ref);
  if (!Number.isFinite(r32) || !Number.isFinite(got)) return got === r32 ? 0 : Infinity;
  return Math.abs(got - ref) / ulpF32(ref);
}
