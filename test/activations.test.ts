// Activation kernels (assembly/activations.ts) against plain float64 references: forward,
// backward, the fused bias + activation epilogue, aliasing, SIMD body vs scalar tail bits,
// gradients by finite differences (STYLE point 4) and saturation at ±300…±400.
import { describe, expect, test } from 'vitest';
import { BUILDS, scratchCore, type Scratch } from './helpers/core.js';
import { expectAllClose, randomArray } from './helpers/reference.js';
import { centralDiff32, centralDiff64, worstRatio } from './helpers/gradcheck.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 64, 1000, 1003];

interface Act {
  name: string;
  id: number;
  alpha: number;
  f: (x: number, a: number) => number;
  df: (x: number, a: number) => number;
  /** Kinks and thresholds to keep finite-difference points away from. */
  kinks: number[];
}
const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const K = Math.sqrt(2 / Math.PI);
// PyTorch's gelu(approximate='tanh') is ½x(1 + tanh(K(x + 0.044715x³))) = x·σ(2K(x + 0.044715x³));
// the σ form avoids float64 cancellation for x ≪ 0.
const gelu64 = (x: number) => x * sigmoid64(2 * K * (x + 0.044715 * x ** 3));
const dgelu64 = (x: number) => {
  const v = 2 * K * (x + 0.044715 * x ** 3);
  const s = sigmoid64(v);
  const sc = sigmoid64(-v);
  return s + x * s * sc * 2 * K * (1 + 3 * 0.044715 * x * x);
};
const ACTS: Act[] = [
  { name: 'linear', id: 0, alpha: 0, f: (x) => x, df: () => 1, kinks: [] },
  { name: 'relu', id: 1, alpha: 0, f: (x) => Math.max(x, 0), df: (x) => (x > 0 ? 1 : 0), kinks: [0] },
  { name: 'leakyRelu', id: 2, alpha: 0.01, f: (x, a) => (x > 0 ? x : a * x), df: (x, a) => (x > 0 ? 1 : a), kinks: [0] },
  { name: 'leakyRelu(0.2)', id: 2, alpha: 0.2, f: (x, a) => (x > 0 ? x : a * x), df: (x, a) => (x > 0 ? 1 : a), kinks: [0] },
  { name: 'elu', id: 3, alpha: 1, f: (x, a) => (x > 0 ? x : a * Math.expm1(x)), df: (x, a) => (x > 0 ? 1 : a * Math.exp(x)), kinks: [0] },
  { name: 'elu(0.5)', id: 3, alpha: 0.5, f: (x, a) => (x > 0 ? x : a * Math.expm1(x)), df: (x, a) => (x > 0 ? 1 : a * Math.exp(x)), kinks: [0] },
  { name: 'sigmoid', id: 4, alpha: 0, f: sigmoid64, df: (x) => sigmoid64(x) * sigmoid64(-x), kinks: [] },
  { name: 'tanh', id: 5, alpha: 0, f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2, kinks: [] },
  {
    name: 'softplus', id: 6, alpha: 0,
    f: (x) => (x > 20 ? x : Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))),
    df: (x) => (x > 20 ? 1 : sigmoid64(x)),
    kinks: [20],
  },
  { name: 'gelu', id: 7, alpha: 0, f: gelu64, df: dgelu64, kinks: [] },
];
// Mixed bounds vs float64: transcendental forwards are within 2.5 ULP (math.test.ts), i.e.
// rtol 2e-7; derivatives read y (sigmoid, tanh) or combine a few such values.
const FWD_TOL = { atol: 1e-7, rtol: 5e-7 };
const BWD_TOL = { atol: 2e-7, rtol: 1e-6 };

function forward(s: Scratch, act: Act, x: Float32Array): Float32Array {
  s.reset();
  const px = s.put(x);
  const py = s.alloc(x.length);
  s.ex.f32_act_forward(act.id, act.alpha, px, py, x.length);
  return s.read(py, x.length);
}
function backward(s: Scratch, act: Act, x: Float32Array, dy: Float32Array): Float32Array {
  const y = forward(s, act, x);
  s.reset();
  const px = s.put(x);
  const py = s.put(y);
  const pdy = s.put(dy);
  const pdx = s.alloc(x.length);
  s.ex.f32_act_backward(act.id, act.alpha, px, py, pdy, pdx, x.length);
  return s.read(pdx, x.length);
}
const map = (x: ArrayLike<number>, f: (v: number, i: number) => number) => Float64Array.from(x, f);
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
/** Test inputs in [-6, 6], nudged away from the activation's kinks. */
function inputs(n: number, seed: number, act: Act, lo = -6, hi = 6): Float32Array {
  const x = randomArray(n, seed, lo, hi);
  for (let i = 0; i < n; i++) for (const k of act.kinks) if (Math.abs(x[i] - k) < 0.01) x[i] = k + 0.05;
  return x;
}

for (const build of BUILDS) {
  describe(`activations (${build} build)`, () => {
    test('forward and backward vs float64 references, every size', async () => {
      const s = await scratchCore(build);
      for (const act of ACTS) {
        for (const n of SIZES) {
          const x = inputs(n, 100 + n, act);
          const dy = randomArray(n, 200 + n, -2, 2);
          const what = `${build} f32_act_forward ${act.name} n=${n}`;
          expectAllClose(forward(s, act, x), map(x, (v) => act.f(v, act.alpha)), { ...FWD_TOL, what });
          expectAllClose(backward(s, act, x, dy), map(x, (v, i) => dy[i] * act.df(v, act.alpha)), {
            ...BWD_TOL,
            what: `${build} f32_act_backward ${act.name} n=${n}`,
          });
        }
      }
    });

    test('in place: y aliasing x, dx aliasing dy', async () => {
      const s = await scratchCore(build);
      for (const act of ACTS) {
        for (const n of [7, 1003]) {
          const x = inputs(n, 300 + n, act);
          const dy = randomArray(n, 400 + n, -2, 2);
          const y = forward(s, act, x);
          const dx = backward(s, act, x, dy);
          s.reset();
          const px = s.put(x);
          s.ex.f32_act_forward(act.id, act.alpha, px, px, n);
          expect(bits(s.read(px, n)), `${act.name} n=${n}: forward in place`).toEqual(bits(y));
          const px2 = s.put(x);
          const py = s.put(y);
          const pdy = s.put(dy);
          s.ex.f32_act_backward(act.id, act.alpha, px2, py, pdy, pdy, n);
          expect(bits(s.read(pdy, n)), `${act.name} n=${n}: backward in place`).toEqual(bits(dx));
        }
      }
    });

    test('bitwise: a value gives the same bits in the SIMD body and in the scalar tail', async () => {
      const s = await scratchCore(build);
      const n = 256;
      for (const act of ACTS) {
        const x = inputs(n, 500, act, -30, 30);
        x.set([0, -0, 1e-30, -1e-30, 88.5, -88.5, 400, -400, 20, 20.000002, 19.999998, 1e-45]);
        const dy = randomArray(n, 501, -2, 2);
        const body = forward(s, act, x); // n % 4 == 0: every element in the SIMD body
        const bodyDx = backward(s, act, x, dy);
        for (let i = 0; i < n; i++) {
          const one = x.subarray(i, i + 1); // n = 1: the scalar tail only
          const y1 = forward(s, act, one)[0];
          const dx1 = backward(s, act, one, dy.subarray(i, i + 1))[0];
          if (!Object.is(y1, body[i]) && !(Number.isNaN(y1) && Number.isNaN(body[i]))) {
            throw new Error(`${build} f32_act_forward ${act.name}: x=${x[i]}: tail ${y1} != body ${body[i]}`);
          }
          if (!Object.is(dx1, bodyDx[i]) && !(Number.isNaN(dx1) && Number.isNaN(bodyDx[i]))) {
            throw new Error(`${build} f32_act_backward ${act.name}: x=${x[i]}: tail ${dx1} != body ${bodyDx[i]}`);
          }
        }
      }
    });

    test('f32_bias_act is bias add then forward (bit-identical), z updated, y == z allowed', async () => {
      const s = await scratchCore(build);
      for (const act of ACTS) {
        for (const [m, n] of [[1, 1], [3, 5], [2, 8], [4, 17], [5, 64], [3, 1003]] as const) {
          const z = randomArray(m * n, 600 + n, -4, 4);
          const b = randomArray(n, 700 + n, -2, 2);
          const zb = Float32Array.from(z, (v, k) => v + b[k % n]); // f32 rounding of z + b
          const yRef = forward(s, act, zb);
          const what = `${build} f32_bias_act ${act.name} ${m}x${n}`;
          s.reset();
          const pz = s.put(z);
          const pb = s.put(b);
          const py = s.alloc(m * n);
          s.ex.f32_bias_act(act.id, act.alpha, pz, pb, py, m, n);
          expect(bits(s.read(pz, m * n)), `${what}: z`).toEqual(bits(zb));
          expect(bits(s.read(py, m * n)), `${what}: y`).toEqual(bits(yRef));
          const pz2 = s.put(z);
          s.ex.f32_bias_act(act.id, act.alpha, pz2, pb, pz2, m, n);
          expect(bits(s.read(pz2, m * n)), `${what}: y == z`).toEqual(bits(yRef));
        }
      }
    });

    test('gradients: backward vs central differences of the float64 forward (eps 1e-6)', async () => {
      const s = await scratchCore(build);
      for (const act of ACTS) {
        const x = inputs(64, 800, act, -5, 5);
        const ones = new Float32Array(64).fill(1);
        const fd = map(x, (v) => centralDiff64((u) => act.f(u, act.alpha), v, 1e-6));
        expectAllClose(backward(s, act, x, ones), fd, { atol: 1e-6, rtol: 1e-5, what: `${build} ${act.name} vs f64 FD` });
      }
    });

    test('gradients: backward vs central differences of the WASM f32 forward (eps 1e-3, tol 1e-3)', async () => {
      const s = await scratchCore(build);
      for (const act of ACTS) {
        const x = inputs(64, 900, act, -5, 5);
        const ones = new Float32Array(64).fill(1);
        const fd = centralDiff32((v) => forward(s, act, v), x, 1e-3);
        expectAllClose(backward(s, act, x, ones), fd, { atol: 1e-3, rtol: 1e-3, what: `${build} ${act.name} vs f32 FD` });
      }
    });

    test('float32 differencing with eps = 1e-5 is too coarse for that tolerance', async () => {
      // Rounding the f32 outputs costs up to ~ulp(f)/(2·eps) ≈ 6e-8·|f|/2e-5 = 3e-3·|f|, above
      // atol/rtol 1e-3 wherever |f| ≳ 0.5: this is why the check above uses eps = 1e-3.
      const s = await scratchCore(build);
      for (const act of ACTS.filter((a) => ['sigmoid', 'tanh', 'softplus', 'gelu'].includes(a.name))) {
        const x = inputs(64, 1000, act, 0.5, 4);
        const ones = new Float32Array(64).fill(1);
        const grad = backward(s, act, x, ones);
        expect(worstRatio(grad, centralDiff32((v) => forward(s, act, v), x, 1e-3), 1e-3, 1e-3)).toBeLessThanOrEqual(1);
        expect(worstRatio(grad, centralDiff32((v) => forward(s, act, v), x, 1e-5), 1e-3, 1e-3), act.name).toBeGreaterThan(1);
      }
    });

    test("PyTorch's choices at kinks: relu'(0) = 0, leakyRelu'(0) = alpha, elu'(0) = alpha", async () => {
      const s = await scratchCore(build);
      const x = new Float32Array([0, -0]);
      const ones = new Float32Array([1, 1]);
      const by = (name: string) => ACTS.find((a) => a.name === name)!;
      expect(Array.from(backward(s, by('relu'), x, ones))).toEqual([0, 0]);
      expect(Array.from(backward(s, by('leakyRelu(0.2)'), x, ones))).toEqual([Math.fround(0.2), Math.fround(0.2)]);
      expect(Array.from(backward(s, by('elu(0.5)'), x, ones))).toEqual([0.5, 0.5]);
      expect(Array.from(forward(s, by('relu'), x))).toEqual([0, 0]);
    });

    test('saturation: ±300 and ±400 give finite values and gradients', async () => {
      const s = await scratchCore(build);
      const x = new Float32Array([300, -300, 400, -400, 1e30, -1e30]);
      const ones = new Float32Array(x.length).fill(1);
      for (const act of ACTS.filter((a) => ['sigmoid', 'tanh', 'softplus', 'gelu', 'elu'].includes(a.name))) {
        const y = forward(s, act, x);
        const dx = backward(s, act, x, ones);
        for (let i = 0; i < x.length; i++) {
          const what = `${build} ${act.name}(${x[i]})`;
          expect(Number.isFinite(y[i]), `${what} = ${y[i]}`).toBe(true);
          expect(Number.isFinite(dx[i]), `${what}' = ${dx[i]}`).toBe(true);
          // Exact limits: the float64 value rounded to f32 (±0 compare equal).
          expect(y[i] === Math.fround(act.f(x[i], act.alpha)), `${what} = ${y[i]}`).toBe(true);
          expect(dx[i] === Math.fround(act.df(x[i], act.alpha)), `${what}' = ${dx[i]}`).toBe(true);
        }
      }
    });
  });
}
