// Loss kernels (assembly/losses.ts) against plain float64 references: summed values, gradients,
// per-row MSE, SIMD body vs scalar tail bits, finite differences (STYLE point 4) and BCE of a
// sigmoid output (from the logits and the core's own σ of them, as the forward pass gives them)
// at ±300…±400 and where exp(−|z|) is tiny.
import { describe, expect, test } from 'vitest';
import { BUILDS, scratchCore, type Scratch } from './helpers/core.js';
import { expectAllClose, randomArray } from './helpers/reference.js';
import { centralDiff32, centralDiff64, worstRatio } from './helpers/gradcheck.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 64, 1000, 1003];
type LossName = 'f32_loss_mse' | 'f32_loss_l1' | 'f32_loss_bce_sigmoid';

interface Loss {
  kernel: LossName;
  /** One element's loss and its derivative in float64. */
  f: (p: number, t: number) => number;
  df: (p: number, t: number) => number;
  /** Test data: predictions (or logits) and targets. */
  data: (n: number, seed: number) => [Float32Array, Float32Array];
}
const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const LOSSES: Loss[] = [
  {
    kernel: 'f32_loss_mse',
    f: (p, t) => (p - t) ** 2,
    df: (p, t) => 2 * (p - t),
    data: (n, seed) => [randomArray(n, seed, -2, 2), randomArray(n, seed + 1, -2, 2)],
  },
  {
    kernel: 'f32_loss_l1',
    f: (p, t) => Math.abs(p - t),
    df: (p, t) => Math.sign(p - t),
    data: (n, seed) => {
      const p = randomArray(n, seed, -2, 2);
      const t = randomArray(n, seed + 1, -2, 2);
      for (let i = 0; i < n; i += 5) t[i] = p[i]; // p == t: gradient 0
      return [p, t];
    },
  },
  {
    kernel: 'f32_loss_bce_sigmoid',
    f: (z, t) => Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))),
    df: (z, t) => sigmoid64(z) - t,
    data: (n, seed) => [randomArray(n, seed, -12, 12), randomArray(n, seed + 1, 0, 1)],
  },
];

const ACT_SIGMOID = 4;

/** Runs a loss kernel on `rows` rows (BCE: y = the core's σ(p) first, as a forward pass gives
 *  it); returns the sum and the gradient (gscale as given), or only the sum with noGrad. */
function run(s: Scratch, kernel: LossName, p: Float32Array, t: Float32Array, gscale: number, rows = 1, noGrad = false): [number, Float32Array] {
  s.reset();
  const n = p.length;
  const pp = s.put(p);
  const pt = s.put(t);
  const pg = noGrad ? 0 : s.alloc(n);
  let v: number;
  if (kernel === 'f32_loss_bce_sigmoid') {
    const py = s.alloc(n);
    s.ex.f32_act_forward(ACT_SIGMOID, 0, pp, py, n);
    v = s.ex.f32_loss_bce_sigmoid(pp, py, pt, pg, rows, n / rows, gscale);
  } else {
    v = s.ex[kernel](pp, pt, pg, n, gscale);
  }
  return [v, noGrad ? new Float32Array(0) : s.read(pg, n)];
}
function sum64(p: ArrayLike<number>, t: ArrayLike<number>, f: (p: number, t: number) => number): number {
  let acc = 0;
  for (let i = 0; i < p.length; i++) acc += f(p[i], t[i]);
  return acc;
}
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

for (const build of BUILDS) {
  describe(`losses (${build} build)`, () => {
    test('value (summed, f64) and gradient vs float64 references, every size', async () => {
      const s = await scratchCore(build);
      for (const L of LOSSES) {
        for (const n of SIZES) {
          const [p, t] = L.data(n, 10 * n);
          const gscale = 1 / n;
          const [v, g] = run(s, L.kernel, p, t, gscale);
          const ref = sum64(p, t, L.f);
          // MSE and L1 are exact per element in f64; BCE's log1p term is f32, from σ (≤ 2 ULP), of ≤ ln 2.
          const tol = L.kernel === 'f32_loss_bce_sigmoid' ? 2e-7 * n : 1e-12 * Math.max(1, ref);
          expect(Math.abs(v - ref), `${build} ${L.kernel} n=${n}: value ${v} vs ${ref}`).toBeLessThanOrEqual(tol);
          expectAllClose(g, Float64Array.from(p, (pi, i) => gscale * L.df(pi, t[i])), {
            atol: 1e-7 * gscale,
            rtol: 1e-6,
            what: `${build} ${L.kernel} gradient n=${n}`,
          });
          // grad = 0: value only, and nothing written (the same value).
          const [v0] = run(s, L.kernel, p, t, gscale, 1, true);
          expect(v0, `${build} ${L.kernel} n=${n}: value without grad`).toBe(v);
        }
      }
    });

    test('bitwise: gradients in the SIMD body and the scalar tail agree', async () => {
      const s = await scratchCore(build);
      for (const L of LOSSES) {
        const n = 64;
        const [p, t] = L.data(n, 77);
        const [, body] = run(s, L.kernel, p, t, 0.25);
        for (let i = 0; i < n; i++) {
          const [, one] = run(s, L.kernel, p.subarray(i, i + 1), t.subarray(i, i + 1), 0.25);
          expect(bits(one)[0], `${build} ${L.kernel}: element ${i} (p=${p[i]}, t=${t[i]})`).toBe(bits(body)[i]);
        }
      }
    });

    test('f32_row_mse: per-row mean of squared errors', async () => {
      const s = await scratchCore(build);
      for (const [m, n] of [[1, 1], [3, 3], [2, 4], [5, 7], [4, 16], [3, 17], [2, 1003]] as const) {
        const p = randomArray(m * n, m + 31 * n, -2, 2);
        const t = randomArray(m * n, m + 37 * n, -2, 2);
        s.reset();
        const po = s.alloc(m);
        s.ex.f32_row_mse(s.put(p), s.put(t), po, m, n);
        const ref = Float64Array.from({ length: m }, (_, i) =>
          sum64(p.subarray(i * n, (i + 1) * n), t.subarray(i * n, (i + 1) * n), (a, b) => (a - b) ** 2) / n,
        );
        expectAllClose(s.read(po, m), ref, { atol: 0, rtol: 6e-8, what: `${build} f32_row_mse ${m}x${n}` });
      }
    });

    test('gradients: kernel vs central differences of the float64 loss (eps 1e-6)', async () => {
      const s = await scratchCore(build);
      for (const L of LOSSES) {
        const [p, t] = L.data(32, 5);
        for (let i = 0; i < p.length; i++) if (Math.abs(p[i] - t[i]) < 1e-3) p[i] = t[i] + 0.1; // L1's kink
        const [, g] = run(s, L.kernel, p, t, 1);
        const fd = Float64Array.from(p, (pi, i) => centralDiff64((u) => L.f(u, t[i]), pi, 1e-6));
        expectAllClose(g, fd, { atol: 1e-6, rtol: 1e-5, what: `${build} ${L.kernel} vs f64 FD` });
      }
    });

    test('gradients: kernel vs central differences of the WASM loss itself (f32 inputs, eps 1e-3)', async () => {
      const s = await scratchCore(build);
      for (const L of LOSSES) {
        const [p, t] = L.data(16, 6);
        for (let i = 0; i < p.length; i++) if (Math.abs(p[i] - t[i]) < 1e-2) p[i] = t[i] + 0.1;
        const [, g] = run(s, L.kernel, p, t, 1);
        // ∂(Σ loss)/∂p_i: perturb one element at a time (each as its own one-element sum).
        const fd = centralDiff32((x) => Float64Array.from(x, (_xi, i) => run(s, L.kernel, x.subarray(i, i + 1), t.subarray(i, i + 1), 1)[0]), p, 1e-3);
        expectAllClose(g, fd, { atol: 1e-3, rtol: 1e-3, what: `${build} ${L.kernel} vs f32 FD` });
      }
    });

    test('BCE: the sum runs row by row, the rows added in order (blocks from the shape)', async () => {
      const s = await scratchCore(build);
      for (const [m, n] of [[1, 5], [3, 4], [4, 7], [5, 17], [8, 784]] as const) {
        const z = randomArray(m * n, m + 7 * n, -12, 12);
        const t = randomArray(m * n, m + 9 * n, 0, 1);
        const [v, g] = run(s, 'f32_loss_bce_sigmoid', z, t, 0.5, m);
        let byRow = 0;
        for (let r = 0; r < m; r++) byRow += run(s, 'f32_loss_bce_sigmoid', z.subarray(r * n, (r + 1) * n), t.subarray(r * n, (r + 1) * n), 0.5)[0];
        expect(v, `${build} ${m}×${n}`).toBe(byRow);
        expect(bits(g), `${build} ${m}×${n}: gradient`).toEqual(bits(run(s, 'f32_loss_bce_sigmoid', z, t, 0.5)[1]));
      }
    });

    test('BCE: float32 differencing with eps = 1e-5 is too coarse', async () => {
      // The per-element log1p term is rounded to f32 (≈6e-8 relative); over a step of 2e-5 that is
      // ~3e-3, above the 1e-3 tolerance that eps = 1e-3 meets.
      const s = await scratchCore(build);
      const z = randomArray(64, 8, -4, 4);
      const t = randomArray(64, 9, 0, 1);
      const [, g] = run(s, 'f32_loss_bce_sigmoid', z, t, 1);
      const loss = (x: Float32Array) => Float64Array.from(x, (_xi, i) => run(s, 'f32_loss_bce_sigmoid', x.subarray(i, i + 1), t.subarray(i, i + 1), 1)[0]);
      expect(worstRatio(g, centralDiff32(loss, z, 1e-3), 1e-3, 1e-3)).toBeLessThanOrEqual(1);
      expect(worstRatio(g, centralDiff32(loss, z, 1e-5), 1e-3, 1e-3)).toBeGreaterThan(1);
    });

    test('BCE: finite and exact at ±300/±400; accurate where exp(−|z|) is tiny', async () => {
      const s = await scratchCore(build);
      const z = new Float32Array([400, -400, 300, -300, 400, -400, 300, -300, 400, -400, 30, 50, 80, -30, -50, -80]);
      const t = new Float32Array([1, 0, 1, 0, 0, 1, 0.3, 0.7, 0.5, 0.5, 1, 1, 1, 0, 0, 0]);
      for (let i = 0; i < z.length; i++) {
        const [v, g] = run(s, 'f32_loss_bce_sigmoid', z.subarray(i, i + 1), t.subarray(i, i + 1), 1);
        const ref = Math.max(z[i], 0) - z[i] * t[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
        const what = `${build} BCE(z=${z[i]}, t=${t[i]})`;
        expect(Number.isFinite(v) && Number.isFinite(g[0]), `${what}: ${v}, grad ${g[0]}`).toBe(true);
        // z < 0: relative 1e-6 even where the loss is e^−80 ≈ 1.8e−35 (log1p keeps σ(z), which is
        // that tiny term; below f32's smallest subnormal, e^−300 …, it is 0). z ≥ 0: the term is
        // −log σ(z) with σ(z) ≥ ½ rounded to f32, so its error is absolute: ≤ 2^−24 (it rounds
        // to 0 once σ(z) rounds to 1, z > 16.6).
        const bound = z[i] < 0 ? 1e-6 * Math.abs(ref) + 2 ** -149 : 1e-6 * Math.abs(ref) + 2 ** -24;
        expect(Math.abs(v - ref), `${what}: ${v} vs ${ref}`).toBeLessThanOrEqual(bound);
        expect(g[0], `${what}: grad`).toBe(Math.fround(Math.fround(sigmoid64(z[i])) - t[i]));
      }
    });
  });
}
