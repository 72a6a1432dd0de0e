// assembly/elementwise.ts against scalar JS references. The references emulate f32 with
// Math.fround in the kernels' documented order, so the f32 kernels must match them bit for bit;
// f32_sum_sq (f64 accumulation, lane-parallel order) is compared with a sequential f64 sum.
// Every case also checks that nothing past the n values (or the m×n matrix) is written.
import { beforeAll, describe, expect, test } from 'vitest';
import { scratchCore, type Scratch } from './helpers/core.js';
import { expectAllClose, randomArray } from './helpers/reference.js';
import { detectFeatures } from '../src/runtime/load.js';
import type { CoreExports } from '../src/runtime/abi.js';

const f = Math.fround;
const SIZES = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 64, 1003];
const COLS = [1, 3, 4, 5, 8, 17, 784];
const ROWS = [1, 2, 3, 7, 33];
const GUARD = 8;
const SENTINEL = -12345.5;

/** Allocates data followed by GUARD sentinel slots; returns the pointer. */
function putGuarded(s: Scratch, data: ArrayLike<number>): number {
  const ptr = s.alloc(data.length + GUARD);
  const v = s.f32(ptr, data.length + GUARD);
  v.set(data);
  v.fill(SENTINEL, data.length);
  return ptr;
}

function expectGuard(s: Scratch, ptr: number, n: number, what: string): void {
  const g = s.read(ptr + n * 4, GUARD);
  for (let i = 0; i < GUARD; i++) {
    if (g[i] !== SENTINEL) throw new Error(`${what}: wrote past the end (slot n+${i} = ${g[i]})`);
  }
}

const exact = (what: string) => ({ atol: 0, rtol: 0, what });

let s: Scratch;
let ex: CoreExports;

// Every suite below runs on the strict build and on the debug build (asserts on, the same bits);
// the relaxed build is checked against the strict one's bits at the end.
describe.each(['strict', 'debug'] as const)('%s build', (build) => {
  beforeAll(async () => {
    s = await scratchCore(build);
    ex = s.ex;
  });

  describe('elementwise, vectors', () => {
    test('f32_axpy: y += alpha·x, out of place and in place', () => {
      for (const n of SIZES) {
        s.reset();
        const x = randomArray(n, 1 + n);
        const y = randomArray(n, 2 + n, -3, 3);
        const alpha = 0.37;
        const xp = putGuarded(s, x);
        const yp = putGuarded(s, y);
        ex.f32_axpy(n, alpha, xp, yp);
        const ref = y.map((yi, i) => f(yi + f(f(alpha) * x[i])));
        expectAllClose(s.read(yp, n), ref, exact(`f32_axpy n=${n}`));
        expectGuard(s, yp, n, `f32_axpy n=${n}`);
        expectAllClose(s.read(xp, n), x, exact(`f32_axpy n=${n} (x unchanged)`));
        // In place: x and y the same array, y = y + alpha·y.
        const zp = putGuarded(s, y);
        ex.f32_axpy(n, -1.5, zp, zp);
        expectAllClose(s.read(zp, n), y.map((v) => f(v + f(-1.5 * v))), exact(`f32_axpy in place n=${n}`));
        expectGuard(s, zp, n, `f32_axpy in place n=${n}`);
      }
    });

    test('f32_scale: x *= alpha', () => {
      for (const n of SIZES) {
        s.reset();
        const x = randomArray(n, 3 + n, -5, 5);
        const xp = putGuarded(s, x);
        ex.f32_scale(n, 0.1, xp);
        expectAllClose(s.read(xp, n), x.map((v) => f(v * f(0.1))), exact(`f32_scale n=${n}`));
        expectGuard(s, xp, n, `f32_scale n=${n}`);
      }
    });

    test('f32_copy: exact bits, overlapping ranges (memmove)', () => {
      for (const n of SIZES) {
        s.reset();
        const x = randomArray(n, 4 + n);
        x[0] = NaN;
        const src = putGuarded(s, x);
        const dst = putGuarded(s, new Float32Array(n));
        ex.f32_copy(n, src, dst);
        expect(new Uint32Array(s.read(dst, n).buffer), `f32_copy n=${n}`).toEqual(new Uint32Array(x.buffer));
        expectGuard(s, dst, n, `f32_copy n=${n}`);
        // Overlap: shift by one slot forward and backward inside one buffer.
        const buf = putGuarded(s, [...x, 0]);
        ex.f32_copy(n, buf, buf + 4);
        expectAllClose(s.read(buf, n + 1), [x[0], ...x], exact(`f32_copy overlap forward n=${n}`));
        ex.f32_copy(n, buf + 4, buf);
        expectAllClose(s.read(buf, n), x, exact(`f32_copy overlap backward n=${n}`));
        expectGuard(s, buf, n + 1, `f32_copy overlap n=${n}`);
      }
      ex.f32_copy(0, 0, 0); // n = 0 touches nothing
    });

    test('f32_fill', () => {
      for (const n of SIZES) {
        s.reset();
        const p = putGuarded(s, randomArray(n, 5 + n));
        ex.f32_fill(n, -0.25, p);
        expectAllClose(s.read(p, n), new Float32Array(n).fill(-0.25), exact(`f32_fill n=${n}`));
        expectGuard(s, p, n, `f32_fill n=${n}`);
      }
    });

    test('f32_clamp: min(max(x, lo), hi), NaN stays NaN; returns how many x were NaN or ±Infinity', () => {
      for (const n of SIZES) {
        s.reset();
        const x = randomArray(n, 6 + n, -2, 2);
        if (n > 2) x[n - 1] = NaN; // in the scalar tail or the last vector
        if (n > 4) x[1] = NaN;
        if (n > 6) x[n - 2] = -Infinity;
        if (n > 8) x[5] = Infinity;
        const p = putGuarded(s, x);
        expect(ex.f32_clamp(n, -0.5, 0.75, p), `f32_clamp n=${n}: count`).toBe(x.filter((v) => !Number.isFinite(v)).length);
        const ref = x.map((v) => Math.min(Math.max(v, -0.5), 0.75));
        expectAllClose(s.read(p, n), ref, exact(`f32_clamp n=${n}`));
        expectGuard(s, p, n, `f32_clamp n=${n}`);
      }
    });

    test('f32_sum_sq: Σx² in f64', () => {
      for (const n of SIZES) {
        s.reset();
        const x = randomArray(n, 7 + n, -3, 3);
        const p = s.put(x);
        let ref = 0;
        for (const v of x) ref += v * v;
        const got = ex.f32_sum_sq(n, p);
        expect(Math.abs(got - ref), `f32_sum_sq n=${n}: got ${got}, expected ${ref}`).toBeLessThanOrEqual(1e-13 * ref);
      }
      // f64 accumulation: 10⁶ squares of 1 + 2⁻¹² (45 significant bits in all) sum exactly; an f32
      // running sum would be off by far more.
      s.reset();
      const n = 1_000_000;
      const v = f(1 + 2 ** -12);
      const p = s.put(new Float32Array(n).fill(v));
      expect(ex.f32_sum_sq(n, p)).toBe(n * v * v);
      expect(ex.f32_sum_sq(0, p)).toBe(0);
    });

    test('f32_count_nonfinite: NaN and ±Infinity, at every position', () => {
      for (const n of SIZES) {
        s.reset();
        const x = randomArray(n, 8 + n, -1e30, 1e30);
        const p = s.put(x);
        expect(ex.f32_count_nonfinite(n, p), `f32_count_nonfinite n=${n} (all finite)`).toBe(0);
        // One bad value at each position in turn: SIMD body and scalar tail.
        const bad = [NaN, Infinity, -Infinity];
        for (let i = 0; i < Math.min(n, 20); i++) {
          const v = s.f32(p, n);
          v[i] = bad[i % 3];
          expect(ex.f32_count_nonfinite(n, p), `f32_count_nonfinite n=${n}, bad at ${i}`).toBe(1);
          v[i] = x[i];
        }
        // Several at once, plus the largest finite values, which must not count.
        const v = s.f32(p, n);
        v[0] = 3.4028234663852886e38;
        let want = 0;
        for (let i = 1; i < n; i += 3) {
          v[i] = bad[((i - 1) / 3) % 3];
          want++;
        }
        if (n > 2) v[n - 1] = -3.4028234663852886e38;
        if (n > 2 && (n - 1) % 3 === 1) want--;
        expect(ex.f32_count_nonfinite(n, p), `f32_count_nonfinite n=${n}, ${want} bad`).toBe(want);
      }
      // A NaN with a payload and a negative NaN count too.
      s.reset();
      const p = s.alloc(5);
      s.u32(p, 5).set([0x7fc00001, 0xffc00000, 0x7f800001, 0x7f7fffff, 0xff800000]);
      expect(ex.f32_count_nonfinite(5, p)).toBe(4);
    });
  });

  describe('elementwise, matrices', () => {
    test('f32_bias_add: y[i, j] += bias[j]', () => {
      for (const m of ROWS) {
        for (const n of COLS) {
          s.reset();
          const y = randomArray(m * n, m * 1000 + n);
          const b = randomArray(n, n + 7);
          const yp = putGuarded(s, y);
          const bp = s.put(b);
          ex.f32_bias_add(yp, bp, m, n);
          const ref = y.map((v, k) => f(v + b[k % n]));
          expectAllClose(s.read(yp, m * n), ref, exact(`f32_bias_add m=${m} n=${n}`));
          expectGuard(s, yp, m * n, `f32_bias_add m=${m} n=${n}`);
        }
      }
    });

    test('f32_col_sum: sums down the rows, accumulate 0 and 1', () => {
      for (const m of [...ROWS, 200]) {
        for (const n of COLS) {
          s.reset();
          const x = randomArray(m * n, m * 1000 + n + 1, -2, 2);
          const prev = randomArray(n, n + 9);
          const xp = s.put(x);
          for (const accumulate of [0, 1]) {
            const what = `f32_col_sum m=${m} n=${n} accumulate=${accumulate}`;
            const op = putGuarded(s, prev);
            ex.f32_col_sum(xp, op, m, n, accumulate);
            const ref = new Float32Array(n);
            for (let j = 0; j < n; j++) {
              let a = 0;
              for (let i = 0; i < m; i++) a = f(a + x[i * n + j]);
              ref[j] = accumulate ? f(prev[j] + a) : a;
            }
            expectAllClose(s.read(op, n), ref, exact(what));
            expectGuard(s, op, n, what);
            // And against an f64 sum, to catch a reference and a kernel that agree on a wrong order.
            const ref64 = Array.from({ length: n }, (_, j) => {
              let a = accumulate ? prev[j] : 0;
              for (let i = 0; i < m; i++) a += x[i * n + j];
              return a;
            });
            expectAllClose(s.read(op, n), ref64, { atol: 1e-5 * m, rtol: 1e-5, what: `${what} (f64)` });
          }
        }
      }
    });

    test('m = 0 leaves everything alone; col_sum then writes zeros (or keeps out)', () => {
      s.reset();
      const out = s.put([1, 2, 3, 4, 5]);
      ex.f32_col_sum(out, out, 0, 5, 1);
      expectAllClose(s.read(out, 5), [1, 2, 3, 4, 5], exact('f32_col_sum m=0 accumulate=1'));
      ex.f32_col_sum(out, out, 0, 5, 0);
      expectAllClose(s.read(out, 5), [0, 0, 0, 0, 0], exact('f32_col_sum m=0 accumulate=0'));
    });
  });
});


describe.runIf(detectFeatures().relaxedSimd)('elementwise, relaxed build', () => {
  test('gives the same bits as the strict build', async () => {
    const results: Uint32Array[] = [];
    for (const mode of ['strict', 'relaxed'] as const) {
      const c = await scratchCore(mode);
      c.reset();
      const x = c.put(randomArray(1003, 11));
      const y = c.put(randomArray(1003, 12));
      c.ex.f32_axpy(1003, 0.3, x, y);
      c.ex.f32_bias_add(y, x, 17, 59);
      const out = c.alloc(59);
      c.ex.f32_col_sum(y, out, 17, 59, 0);
      results.push(new Uint32Array(c.read(out, 59).buffer));
    }
    expect(results[1]).toEqual(results[0]);
  });
});
