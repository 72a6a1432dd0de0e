// assembly/optimizers.ts against the torch.optim pseudo-code, implemented independently in
// float64 JS (the formulas as written in the docs, not the kernels' op order). Several steps
// with fresh random gradients, for several hyperparameter settings of each algorithm, on sizes
// that exercise the SIMD body and the scalar tail.
import { beforeAll, describe, expect, test } from 'vitest';
import { scratchCore, type Scratch } from './helpers/core.js';
import { expectAllClose, randomArray } from './helpers/reference.js';
import { detectFeatures } from '../src/runtime/load.js';
import type { CoreExports } from '../src/runtime/abi.js';

const STEPS = 6;
const SIZES = [1, 3, 4, 7, 37, 1003];

let s: Scratch;
let ex: CoreExports;

/** Relative 1e-5, with an absolute floor at 1e-6 of the array's largest magnitude. */
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  expectAllClose(actual, expected, { rtol: 1e-5, atol: 1e-6 * scale, what });
}

/** Runs `steps` steps of a kernel and of its float64 reference, each on its own state, and
 *  compares parameters and every state tensor after each step. Returns the final parameters. */
function runCase(
  name: string,
  n: number,
  nState: number,
  initState: (k: number) => number,
  kernel: (p: number, g: number, st: number[], step: number, undo: number) => number,
  ref: (p: Float64Array, g: Float32Array, st: Float64Array[], step: number) => void,
  seed = 1,
): Float32Array {
  s.reset();
  const p0 = randomArray(n, seed * 7919 + n, -1, 1);
  const p = s.put(p0);
  const g = s.alloc(n);
  const st = Array.from({ length: nState }, (_, k) => s.put(new Float32Array(n).fill(initState(k))));
  const undo = undoArea(s, p);
  const rp = Float64Array.from(p0);
  const rst = Array.from({ length: nState }, (_, k) => new Float64Array(n).fill(initState(k)));
  for (let step = 1; step <= STEPS; step++) {
    const grad = randomArray(n, seed * 104729 + step * 31 + n, -1, 1);
    s.f32(g, n).set(grad);
    const what = `${name} n=${n} step ${step}`;
    updateWithUndo(what, n, [p, ...st], undo, (d) => kernel(p, g, st, step, d));
    ref(rp, grad, rst, step);
    expect(s.read(g, n), `${what}: the gradient was modified`).toEqual(grad);
    close(s.read(p, n), rp, `${what}: params`);
    for (let k = 0; k < nState; k++) close(s.read(st[k], n), rst[k], `${what}: state ${k}`);
  }
  return s.read(p, n);
}

/**
 * An undo area mirroring the scratch memory from p to what is allocated so far (the kernels'
 * `undo` argument is the displacement to it): allocate p first, then the rest of a case.
 */
function undoArea(sc: Scratch, p: number): number {
  const end = sc.alloc(0);
  return sc.alloc((end - p) / 4) - p;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * What Optimizer.apply does: one update with an undo area. It must report no non-finite value,
 * and the undo area must hold every buffer's values from before the update, bit for bit
 * (buffers the update does not write are zero, as is the fresh undo area).
 */
function updateWithUndo(what: string, n: number, buffers: number[], undo: number, run: (undo: number) => number): void {
  const before = buffers.map((b) => s.read(b, n));
  expect(run(undo), `${what}: non-finite values flagged`).toBe(0);
  buffers.forEach((b, k) => expect(bits(s.read(b + undo, n)), `${what}: the undo copy of buffer ${k}`).toEqual(bits(before[k])));
}

// Every suite below runs on the strict build and on the debug build (asserts on, the same bits);
// the relaxed build is checked against the strict one's bits at the end.
describe.each(['strict', 'debug'] as const)('%s build', (build) => {
  beforeAll(async () => {
    s = await scratchCore(build);
    ex = s.ex;
  });

  describe('SGD', () => {
    const settings = [
      { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: 0 },
      { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.01, nesterov: 0 },
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: 0 },
      { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0, nesterov: 0 },
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: 1 },
      { lr: 0.02, momentum: 0.5, dampening: 0.5, weightDecay: 0.01, nesterov: 1 },
    ];
    for (const h of settings) {
      test(`matches the formula: ${JSON.stringify(h)}`, () => {
        for (const n of SIZES) {
          runCase(`f32_sgd ${JSON.stringify(h)}`, n, 1, () => 0,
            (p, g, [buf], step, undo) => ex.f32_sgd(n, p, g, buf, h.lr, h.momentum, h.dampening, h.weightDecay, h.nesterov, step, undo),
            (p, g, [buf], step) => {
              for (let i = 0; i < n; i++) {
                let d = g[i] + h.weightDecay * p[i];
                if (h.momentum !== 0) {
                  buf[i] = step === 1 ? d : h.momentum * buf[i] + (1 - h.dampening) * d;
                  d = h.nesterov ? d + h.momentum * buf[i] : buf[i];
                }
                p[i] -= h.lr * d;
              }
            });
        }
      });
    }

    test('momentum = 0 leaves buf alone; step 1 ignores the old buf', () => {
      s.reset();
      const p = s.put([1, 2, 3, 4, 5]);
      const g = s.put([1, 1, 1, 1, 1]);
      const buf = s.put([7, 7, 7, 7, 7]);
      ex.f32_sgd(5, p, g, buf, 0.5, 0, 0, 0, 0, 3, undoArea(s, p));
      expect(s.read(buf, 5)).toEqual(new Float32Array(5).fill(7));
      expect(s.read(p, 5)).toEqual(Float32Array.from([0.5, 1.5, 2.5, 3.5, 4.5]));
      ex.f32_sgd(5, p, g, buf, 0.5, 0.9, 0.3, 0, 0, 1, undoArea(s, p));
      expect(s.read(buf, 5)).toEqual(new Float32Array(5).fill(1)); // buf = g, no dampening
    });
  });

  describe('Adam / AdamW', () => {
    interface AdamH { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: number; amsgrad: number }
    const base = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const settings: AdamH[] = [];
    for (const weightDecay of [0, 0.01]) {
      for (const decoupled of [0, 1]) {
        for (const amsgrad of [0, 1]) settings.push({ ...base, weightDecay, decoupled, amsgrad });
      }
    }
    // β1 < 0.5 takes ATen lerp's other branch; a large ε dominates small √v̂.
    settings.push({ lr: 0.003, beta1: 0.3, beta2: 0.9, eps: 1e-8, weightDecay: 0.1, decoupled: 0, amsgrad: 1 });
    settings.push({ lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 0.1, weightDecay: 0.05, decoupled: 1, amsgrad: 0 });

    function adamRef(h: AdamH, n: number) {
      return (p: Float64Array, g32: Float32Array, [m, v, vmax]: Float64Array[], t: number) => {
        for (let i = 0; i < n; i++) {
          let g = g32[i];
          if (h.weightDecay !== 0) {
            if (h.decoupled) p[i] -= h.lr * h.weightDecay * p[i];
            else g += h.weightDecay * p[i];
          }
          m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
          v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
          const mHat = m[i] / (1 - h.beta1 ** t);
          let vHat: number;
          if (h.amsgrad) {
            vmax[i] = Math.max(vmax[i], v[i]);
            vHat = vmax[i] / (1 - h.beta2 ** t);
          } else {
            vHat = v[i] / (1 - h.beta2 ** t);
          }
          p[i] -= (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
        }
      };
    }
    const adamKernel = (h: AdamH, n: number) => (p: number, g: number, [m, v, vmax]: number[], step: number, undo: number) =>
      ex.f32_adam(n, p, g, m, v, vmax, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.decoupled, h.amsgrad, step, undo);

    for (const h of settings) {
      test(`matches the formula: ${JSON.stringify(h)}`, () => {
        for (const n of SIZES) {
          runCase(`f32_adam ${JSON.stringify(h)}`, n, 3, () => 0, adamKernel(h, n), adamRef(h, n));
        }
      });
    }

    test('bias correction: step 1 moves every weight by ≈ lr·sign(g)', () => {
      s.reset();
      const n = 1003;
      const p0 = randomArray(n, 5);
      const grad = randomArray(n, 6, -10, 10);
      const p = s.put(p0);
      const g = s.put(grad);
      const m = s.alloc(n), v = s.alloc(n), vmax = s.alloc(n);
      ex.f32_adam(n, p, g, m, v, vmax, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 0, 1, undoArea(s, p));
      const got = s.read(p, n);
      for (let i = 0; i < n; i++) {
        if (Math.abs(grad[i]) < 1e-3) continue;
        const moved = got[i] - p0[i];
        expect(Math.abs(moved + 1e-3 * Math.sign(grad[i])), `weight ${i} moved ${moved}`).toBeLessThan(1e-3 * 1e-3);
      }
    });

    test('Adam and AdamW: equal without weight decay, different with it; AdamW decays exactly', () => {
      const run = (wd: number, decoupled: number, amsgrad = 0) => {
        const h = { ...base, weightDecay: wd, decoupled, amsgrad };
        return runCase(`f32_adam ${JSON.stringify(h)}`, 37, 3, () => 0, adamKernel(h, 37), adamRef(h, 37));
      };
      expect(run(0, 1)).toEqual(run(0, 0));
      const adam = run(0.1, 0);
      const adamw = run(0.1, 1);
      let differ = 0;
      for (let i = 0; i < 37; i++) if (adam[i] !== adamw[i]) differ++;
      expect(differ).toBeGreaterThan(30);
      expect(run(0, 0, 1)).not.toEqual(run(0, 0, 0)); // AMSGrad changes something over 6 steps
      // Zero gradient, fresh state: AdamW only shrinks p by (1 − lr·wd); Adam with L2 moves it by
      // ≈ lr against its sign instead.
      s.reset();
      const p0 = randomArray(9, 3);
      const p = s.put(p0), g = s.alloc(9), m = s.alloc(9), v = s.alloc(9), vmax = s.alloc(9);
      ex.f32_adam(9, p, g, m, v, vmax, 0.01, 0.9, 0.999, 1e-8, 0.5, 1, 0, 1, undoArea(s, p));
      expect(s.read(p, 9)).toEqual(p0.map((x) => Math.fround(x * Math.fround(1 - 0.01 * 0.5))));
      s.f32(p, 9).set(p0);
      ex.f32_adam(9, p, g, m, v, vmax, 0.01, 0.9, 0.999, 1e-8, 0.5, 0, 0, 1, undoArea(s, p));
      close(s.read(p, 9), p0.map((x) => x - 0.01 * Math.sign(x)), 'Adam with L2 and g = 0');
    });

    test('vmax is used only with amsgrad', () => {
      s.reset();
      const p = s.put(randomArray(7, 1)), g = s.put(randomArray(7, 2));
      const m = s.alloc(7), v = s.alloc(7), vmax = s.put(new Float32Array(7).fill(-3));
      ex.f32_adam(7, p, g, m, v, vmax, 0.01, 0.9, 0.999, 1e-8, 0.01, 0, 0, 1, undoArea(s, p));
      expect(s.read(vmax, 7)).toEqual(new Float32Array(7).fill(-3));
    });
  });

  describe('RMSprop', () => {
    const settings = [
      { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: 0 },
      { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.01, momentum: 0, centered: 0 },
      { lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0.9, centered: 0 },
      { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: 1 },
      { lr: 0.005, alpha: 0.95, eps: 1e-6, weightDecay: 0.01, momentum: 0.9, centered: 1 },
      { lr: 0.005, alpha: 0.3, eps: 1e-3, weightDecay: 0, momentum: 0.5, centered: 1 }, // lerp weight 0.7
    ];
    for (const h of settings) {
      test(`matches the formula: ${JSON.stringify(h)}`, () => {
        for (const n of SIZES) {
          runCase(`f32_rmsprop ${JSON.stringify(h)}`, n, 3, () => 0,
            (p, g, [sq, gavg, buf], _step, undo) =>
              ex.f32_rmsprop(n, p, g, sq, gavg, buf, h.lr, h.alpha, h.eps, h.weightDecay, h.momentum, h.centered, undo),
            (p, g32, [v, gavg, b]) => {
              for (let i = 0; i < n; i++) {
                let g = g32[i];
                if (h.weightDecay !== 0) g += h.weightDecay * p[i];
                v[i] = h.alpha * v[i] + (1 - h.alpha) * g * g;
                let vt = v[i];
                if (h.centered) {
                  gavg[i] = gavg[i] * h.alpha + (1 - h.alpha) * g;
                  vt -= gavg[i] * gavg[i];
                }
                if (h.momentum > 0) {
                  b[i] = h.momentum * b[i] + g / (Math.sqrt(vt) + h.eps);
                  p[i] -= h.lr * b[i];
                } else {
                  p[i] -= (h.lr * g) / (Math.sqrt(vt) + h.eps);
                }
              }
            });
        }
      });
    }

    test('gavg and buf are used only when centered / momentum > 0', () => {
      s.reset();
      const p = s.put(randomArray(7, 1)), g = s.put(randomArray(7, 2)), sq = s.alloc(7);
      const gavg = s.put(new Float32Array(7).fill(-3)), buf = s.put(new Float32Array(7).fill(-4));
      ex.f32_rmsprop(7, p, g, sq, gavg, buf, 0.01, 0.99, 1e-8, 0, 0, 0, undoArea(s, p));
      expect(s.read(gavg, 7)).toEqual(new Float32Array(7).fill(-3));
      expect(s.read(buf, 7)).toEqual(new Float32Array(7).fill(-4));
    });
  });

  describe('Adagrad', () => {
    const settings = [
      { lr: 0.1, lrDecay: 0, weightDecay: 0, eps: 1e-10, init: 0 },
      { lr: 0.1, lrDecay: 0.1, weightDecay: 0, eps: 1e-10, init: 0 },
      { lr: 0.05, lrDecay: 0.01, weightDecay: 0.01, eps: 1e-10, init: 0.1 },
      { lr: 0.5, lrDecay: 0, weightDecay: 0.01, eps: 0.01, init: 0 },
    ];
    for (const h of settings) {
      test(`matches the formula: ${JSON.stringify(h)}`, () => {
        for (const n of SIZES) {
          runCase(`f32_adagrad ${JSON.stringify(h)}`, n, 1, () => h.init,
            (p, g, [sum], step, undo) => ex.f32_adagrad(n, p, g, sum, h.lr, h.lrDecay, h.weightDecay, h.eps, step, undo),
            (p, g32, [sum], t) => {
              const clr = h.lr / (1 + (t - 1) * h.lrDecay);
              for (let i = 0; i < n; i++) {
                let g = g32[i];
                if (h.weightDecay !== 0) g += h.weightDecay * p[i];
                sum[i] += g * g;
                p[i] -= (clr * g) / (Math.sqrt(sum[i]) + h.eps);
              }
            });
        }
      });
    }
  });

  test('Adagrad with ε = 0: the lanes past n in a tail (0/0 there) are not flagged', () => {
    for (const n of [1, 5, 6, 7]) {
      s.reset();
      const p = s.put(randomArray(n, 3)), g = s.put(randomArray(n, 4, 0.5, 1)), sum = s.alloc(n);
      updateWithUndo(`f32_adagrad n=${n}`, n, [p, sum], undoArea(s, p), (d) => ex.f32_adagrad(n, p, g, sum, 0.1, 0, 0, 0, 1, d));
      expect(s.read(p, n).every(Number.isFinite)).toBe(true);
    }
  });

  describe('Adadelta', () => {
    const settings = [
      { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 },
      { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0.01 },
      { lr: 0.5, rho: 0.5, eps: 1e-4, weightDecay: 0 },
    ];
    for (const h of settings) {
      test(`matches the formula: ${JSON.stringify(h)}`, () => {
        for (const n of SIZES) {
          runCase(`f32_adadelta ${JSON.stringify(h)}`, n, 2, () => 0,
            (p, g, [sq, acc], _step, undo) => ex.f32_adadelta(n, p, g, sq, acc, h.lr, h.rho, h.eps, h.weightDecay, undo),
            (p, g32, [v, u]) => {
              for (let i = 0; i < n; i++) {
                let g = g32[i];
                if (h.weightDecay !== 0) g += h.weightDecay * p[i];
                v[i] = v[i] * h.rho + g * g * (1 - h.rho);
                const dx = (Math.sqrt(u[i] + h.eps) / Math.sqrt(v[i] + h.eps)) * g;
                u[i] = u[i] * h.rho + dx * dx * (1 - h.rho);
                p[i] -= h.lr * dx;
              }
            });
        }
      });
    }
  });

  // The kernels follow torch.optim's single-tensor op sequence in f32 (ATen ops, each rounded):
  // this mirror in Math.fround pins that order bit for bit, so a reordering shows up here.
  describe('op order: bit-exact against an f32 mirror of the torch.optim op sequence', () => {
    const fr = Math.fround;
    const lerp = (a: number, b: number, w: number) =>
      Math.abs(w) < 0.5 ? fr(a + fr(w * fr(b - a))) : fr(b - fr(fr(b - a) * fr(1 - w)));
    const n = 23;
    type Mirror = (p: Float32Array, g: Float32Array, st: Float32Array[], t: number) => void;
    type Kernel = (p: number, g: number, st: number[], t: number, undo: number) => number;
    const nonFinite = (arrays: Float32Array[]) => arrays.reduce((c, a) => c + a.filter((x) => !Number.isFinite(x)).length, 0);
    function mirrorCase(name: string, nState: number, kernel: Kernel, mirror: Mirror) {
      test(name, () => {
        s.reset();
        const p0 = randomArray(n, 21), p = s.put(p0), g = s.alloc(n);
        const st = Array.from({ length: nState }, () => s.alloc(n));
        const mp = p0.slice(), mst = Array.from({ length: nState }, () => new Float32Array(n));
        const undo = undoArea(s, p);
        for (let t = 1; t <= 4; t++) {
          const grad = randomArray(n, 30 + t);
          s.f32(g, n).set(grad);
          updateWithUndo(`${name} step ${t}`, n, [p, ...st], undo, (d) => kernel(p, g, st, t, d));
          mirror(mp, grad, mst, t);
          const got = [s.read(p, n), ...st.map((q) => s.read(q, n))];
          const want = [mp, ...mst];
          got.forEach((a, k) => expect(new Uint32Array(a.buffer), `${name} step ${t}, array ${k}`).toEqual(new Uint32Array(want[k].buffer)));
        }
      });
      // Gradients that overflow the update (f32 max ≈ 3.4e38), ±Infinity and NaN at some
      // positions, body and tail: the kernel flags the update, leaves non-finite values exactly
      // where the mirror has them, and its undo area holds the values from before, bit for bit.
      for (const bad of [{ 2: 3.3e38, 9: -Infinity, 13: NaN, 21: -3.3e38, 22: Infinity }, { 22: NaN }, { 0: Infinity }]) {
        test(`${name}, gradients ${JSON.stringify(bad)}: flagged, and the undo area holds the old values`, () => {
          s.reset();
          const p0 = randomArray(n, 22), p = s.put(p0), g = s.alloc(n);
          const st = Array.from({ length: nState }, () => s.alloc(n));
          const undo = undoArea(s, p);
          const mp = p0.slice(), mst = Array.from({ length: nState }, () => new Float32Array(n));
          const grad = randomArray(n, 40);
          s.f32(g, n).set(grad);
          expect(kernel(p, g, st, 1, undo)).toBe(0); // an ordinary step first: state not all zero
          mirror(mp, grad, mst, 1);
          Object.entries(bad).forEach(([i, v]) => (grad[+i] = v));
          s.f32(g, n).set(grad);
          const before = [p, ...st].map((b) => s.read(b, n));
          mirror(mp, grad, mst, 2);
          expect(kernel(p, g, st, 2, undo)).toBeGreaterThan(0);
          const after = [p, ...st].map((b) => s.read(b, n));
          after.forEach((a, k) => expect(a.map((x) => (Number.isFinite(x) ? 0 : 1)), `array ${k}`).toEqual([mp, ...mst][k].map((x) => (Number.isFinite(x) ? 0 : 1))));
          expect(nonFinite(after)).toBeGreaterThan(0);
          [p, ...st].forEach((b, k) => expect(bits(s.read(b + undo, n)), `undo copy of array ${k}`).toEqual(bits(before[k])));
        });
      }
    }

    const [lr, mom, damp, wd] = [0.05, 0.9, 0.1, 0.01];
    mirrorCase('SGD, Nesterov, dampening, weight decay', 1,
      (p, g, [buf], t, undo) => ex.f32_sgd(n, p, g, buf, lr, mom, damp, wd, 1, t, undo),
      (p, g, [buf], t) => {
        for (let i = 0; i < n; i++) {
          let d = fr(g[i] + fr(fr(wd) * p[i])); // grad.add(param, alpha=wd)
          buf[i] = t === 1 ? d : fr(fr(buf[i] * fr(mom)) + fr(fr(1 - damp) * d)); // buf.mul_(μ).add_(g, alpha=1−τ)
          d = fr(d + fr(fr(mom) * buf[i])); // grad.add(buf, alpha=μ)
          p[i] = fr(p[i] + fr(fr(-lr) * d)); // param.add_(grad, alpha=−lr)
        }
      });

    for (const [decoupled, amsgrad, beta1] of [[0, 1, 0.9], [1, 0, 0.9], [1, 1, 0.2]]) {
      const [b2, eps, awd] = [0.999, 1e-8, 0.05];
      mirrorCase(`Adam, decoupled=${decoupled}, amsgrad=${amsgrad}, β1=${beta1}`, 3,
        (p, g, [m, v, vmax], t, undo) => ex.f32_adam(n, p, g, m, v, vmax, lr, beta1, b2, eps, awd, decoupled, amsgrad, t, undo),
        (p, g, [m, v, vmax], t) => {
          const bc1 = 1 - beta1 ** t, bc2 = 1 - b2 ** t;
          for (let i = 0; i < n; i++) {
            let gi = g[i];
            if (decoupled) p[i] = fr(p[i] * fr(1 - lr * awd)); // param.mul_(1 − lr·wd)
            else gi = fr(gi + fr(fr(awd) * p[i]));
            m[i] = lerp(m[i], gi, fr(1 - beta1)); // exp_avg.lerp_(grad, 1 − β1)
            v[i] = fr(fr(v[i] * fr(b2)) + fr(fr(fr(1 - b2) * gi) * gi)); // mul_(β2).addcmul_(g, g, value=1 − β2)
            let vv = v[i];
            if (amsgrad) vv = vmax[i] = Math.max(vmax[i], v[i]);
            const denom = fr(fr(fr(Math.sqrt(vv)) / fr(Math.sqrt(bc2))) + fr(eps)); // (√v / √bc2).add_(ε)
            p[i] = fr(p[i] + fr(fr(fr(-(lr / bc1)) * m[i]) / denom)); // addcdiv_(m, denom, value=−lr/bc1)
          }
        });
    }

    mirrorCase('RMSprop, centered, momentum, weight decay', 3,
      (p, g, [sq, gavg, buf], _t, undo) => ex.f32_rmsprop(n, p, g, sq, gavg, buf, 0.01, 0.9, 1e-6, wd, mom, 1, undo),
      (p, g, [sq, gavg, buf]) => {
        for (let i = 0; i < n; i++) {
          const gi = fr(g[i] + fr(fr(wd) * p[i]));
          sq[i] = fr(fr(sq[i] * fr(0.9)) + fr(fr(fr(1 - 0.9) * gi) * gi));
          gavg[i] = lerp(gavg[i], gi, fr(1 - 0.9));
          const avg = fr(fr(Math.sqrt(fr(sq[i] - fr(gavg[i] * gavg[i])))) + fr(1e-6));
          buf[i] = fr(fr(buf[i] * fr(mom)) + fr(gi / avg)); // buf.mul_(μ).addcdiv_(g, avg)
          p[i] = fr(p[i] + fr(fr(-0.01) * buf[i]));
        }
      });

    mirrorCase('Adagrad, lr decay, weight decay', 1,
      (p, g, [sum], t, undo) => ex.f32_adagrad(n, p, g, sum, 0.1, 0.05, wd, 1e-10, t, undo),
      (p, g, [sum], t) => {
        const clr = 0.1 / (1 + (t - 1) * 0.05);
        for (let i = 0; i < n; i++) {
          const gi = fr(g[i] + fr(fr(wd) * p[i]));
          sum[i] = fr(sum[i] + fr(gi * gi));
          p[i] = fr(p[i] + fr(fr(fr(-clr) * gi) / fr(fr(Math.sqrt(sum[i])) + fr(1e-10))));
        }
      });

    mirrorCase('Adadelta, weight decay', 2,
      (p, g, [sq, acc], _t, undo) => ex.f32_adadelta(n, p, g, sq, acc, 1, 0.9, 1e-6, wd, undo),
      (p, g, [sq, acc]) => {
        for (let i = 0; i < n; i++) {
          const gi = fr(g[i] + fr(fr(wd) * p[i]));
          sq[i] = fr(fr(sq[i] * fr(0.9)) + fr(fr(fr(1 - 0.9) * gi) * gi));
          const std = fr(Math.sqrt(fr(sq[i] + fr(1e-6))));
          const delta = fr(fr(fr(Math.sqrt(fr(acc[i] + fr(1e-6)))) / std) * gi); // delta.div_(std).mul_(grad)
          acc[i] = fr(fr(acc[i] * fr(0.9)) + fr(fr(fr(1 - 0.9) * delta) * delta));
          p[i] = fr(p[i] + fr(fr(-1) * delta));
        }
      });
  });
});


describe.runIf(detectFeatures().relaxedSimd)('optimizers, relaxed build', () => {
  test('gives the same bits as the strict build', async () => {
    const results: Float32Array[] = [];
    for (const mode of ['strict', 'relaxed'] as const) {
      const c: Scratch = await scratchCore(mode);
      c.reset();
      const n = 103;
      const p = c.put(randomArray(n, 1)), g = c.put(randomArray(n, 2));
      const a = c.alloc(n), b = c.alloc(n), d = c.alloc(n);
      const undo = undoArea(c, p);
      for (let t = 1; t <= 3; t++) {
        c.ex.f32_adam(n, p, g, a, b, d, 0.01, 0.9, 0.999, 1e-8, 0.01, 1, 1, t, undo);
        c.ex.f32_rmsprop(n, p, g, a, b, d, 0.01, 0.9, 1e-8, 0.01, 0.9, 1, undo);
        c.ex.f32_sgd(n, p, g, a, 0.01, 0.9, 0.1, 0.01, 1, t, undo);
      }
      results.push(c.read(p, n));
    }
    expect(new Uint32Array(results[1].buffer)).toEqual(new Uint32Array(results[0].buffer));
  });
});
