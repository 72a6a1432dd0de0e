// Test data and comparison helpers shared by the kernel and model tests.

/** A small seeded PRNG (mulberry32) for test data: independent of the core's RNG on purpose. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi), rounded to f32. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/**
 * Asserts |actual[i] − expected[i]| ≤ atol + rtol·|expected[i]| for every i; on failure the
 * message names the case (shapes), the first bad index and both values.
 */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5, what = '' }: { atol?: number; rtol?: number; what?: string } = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  }
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    const ok = err <= atol + rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e)) || a === e;
    if (!ok) {
      bad++;
      if (first < 0) first = i;
      worst = Math.max(worst, err);
    }
  }
  if (bad > 0) {
    throw new Error(
      `${what}: ${bad}/${actual.length} values differ (atol ${atol}, rtol ${rtol}); first at [${first}]: ` +
        `got ${actual[first]}, expected ${expected[first]}; worst abs error ${worst}`,
    );
  }
}
