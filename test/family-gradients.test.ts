// Gradients of the family's new losses and layers against float64 JS finite differences
// (STYLE point 4): KL(N(μ, σ²) ‖ N(0, 1)), the L1 and KL sparsity penalties, dropout, the
// reparameterisation, the VAE objective end to end with ε fixed, and the sparse and denoising
// autoencoders' objectives.
import { describe, expect, test } from 'vitest';
import { DenoisingAutoencoder, SparseAutoencoder, VAE, init, liveTensors } from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { Kernels } from '../src/runtime/kernels.js';
import { Rng } from '../src/runtime/rng.js';
import { Sequential, type Dense, type Param } from '../src/nn/layers.js';
import { centralDiff, refForward, refLayers, type RefLayer } from './helpers/reference-nn.js';
import { expectAllClose, randomArray } from './helpers/reference.js';
import type { Tensor } from '../src/runtime/memory.js';

await init();
const a = arena();
const k = new Kernels(a);

const put = (v: ArrayLike<number>): Tensor => {
  const t = a.alloc(v.length);
  a.write(t, v);
  return t;
};
const free = (...ts: Tensor[]) => ts.forEach((t) => a.release(t));

/** Finite differences of f64 f over every element of arr. */
const fdAll = (f: () => number, arr: Float64Array) => Float64Array.from(arr, (_, i) => centralDiff(f, arr, i));

describe('KL(N(μ, σ²) ‖ N(0, 1))', () => {
  const klRef = (mu: Float64Array, lv: Float64Array) => mu.reduce((s, m, i) => s - 0.5 * (1 + lv[i] - m * m - Math.exp(lv[i])), 0);
  test.each([1, 4, 7, 37])('n = %i: value and gradients vs finite differences', (n) => {
    const live = a.liveTensors();
    const mu = randomArray(n, 3 + n, -2, 2);
    const lv = randomArray(n, 5 + n, -3, 2);
    const [tm, tl, gm, gl] = [put(mu), put(lv), a.alloc(n), a.alloc(n)];
    const gscale = 0.25;
    const value = k.klNormal(tm, tl, gm, gl, n, gscale);
    const m64 = Float64Array.from(mu);
    const l64 = Float64Array.from(lv);
    const f = () => klRef(m64, l64);
    expect(value).toBeCloseTo(f(), 4);
    expectAllClose(a.read(gm), fdAll(f, m64).map((g) => g * gscale), { atol: 1e-6, rtol: 1e-4, what: `dKL/dμ n=${n}` });
    expectAllClose(a.read(gl), fdAll(f, l64).map((g) => g * gscale), { atol: 1e-6, rtol: 1e-4, what: `dKL/dlogσ² n=${n}` });
    // without gradients: the same value, nothing written
    expect(k.klNormal(tm, tl, null, null, n, 0)).toBe(value);
    free(tm, tl, gm, gl);
    expect(a.liveTensors()).toBe(live);
  });

  test('is 0 at the prior and finite at extreme log-variances', () => {
    const [tm, tl] = [put([0, 0, 0, 0, 0]), put([0, 0, 0, 0, 0])];
    expect(k.klNormal(tm, tl, null, null, 5, 0)).toBe(0);
    a.write(tl, [-80, -30, 30, 80, 0]);
    const v = k.klNormal(tm, tl, null, null, 5, 0);
    const ref = [-80, -30, 30, 80, 0].reduce((s, l) => s - 0.5 * (1 + l - Math.exp(l)), 0);
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v - ref) / ref).toBeLessThan(1e-6);
    free(tm, tl);
  });
});

describe('sparsity penalties', () => {
  test.each([3, 8, 13])('L1: Σ|z| and grad += gscale·sign(z), n = %i', (n) => {
    const z = randomArray(n, 9 + n, -1, 1);
    z[0] = 0;
    const prior = randomArray(n, 10 + n, -1, 1);
    const [tz, tg] = [put(z), put(prior)];
    const v = k.penaltyL1(tz, tg, n, 0.5);
    expect(v).toBeCloseTo(z.reduce((s, x) => s + Math.abs(x), 0), 5);
    const z64 = Float64Array.from(z);
    z64[0] = 0.3; // finite differences need to stay off the kink; the kernel's sign(0) = 0 is checked apart
    const fd = fdAll(() => 0.5 * z64.reduce((s, x) => s + Math.abs(x), 0), z64);
    fd[0] = 0;
    expectAllClose(a.read(tg), Float64Array.from(prior, (p, i) => p + fd[i]), { atol: 1e-6, rtol: 1e-5, what: 'L1 grad' });
    free(tz, tg);
  });

  test('KL sparsity: value and the per-unit gradient vs finite differences over every code value', () => {
    const m = 6;
    const n = 5;
    const rho = 0.05;
    const weight = 3;
    const z = randomArray(m * n, 21, 0.01, 0.6);
    const z64 = Float64Array.from(z);
    const ref = () => {
      let s = 0;
      for (let j = 0; j < n; j++) {
        let r = 0;
        for (let i = 0; i < m; i++) r += z64[i * n + j];
        r /= m;
        s += rho * Math.log(rho / r) + (1 - rho) * Math.log((1 - rho) / (1 - r));
      }
      return weight * s;
    };
    const [tz, cs, d] = [put(z), a.alloc(n), a.alloc(n)];
    k.colSum(tz, cs, m, n);
    const v = k.penaltyKlSparsity(cs, d, n, m, rho, weight);
    expect(v).toBeCloseTo(ref(), 4);
    const fd = fdAll(ref, z64);
    const dj = a.read(d);
    const got = Float64Array.from({ length: m * n }, (_, i) => dj[i % n]);
    expectAllClose(got, fd, { atol: 1e-5, rtol: 1e-4, what: 'KL sparsity grad' });
    free(tz, cs, d);
  });
});

describe('dropout', () => {
  test('training: inverted mask with rate p, backward = dy ⊙ mask; inference: identity', () => {
    const live = a.liveTensors();
    const rng = new Rng(a, 3);
    const rows = 50;
    const seq = new Sequential(k, [40], [{ type: 'dropout', rate: 0.25 }], 'd', true);
    seq.init(rng, 'glorotUniform');
    seq.reserve(rows);
    const xv = randomArray(rows * 40, 2, 0.5, 1.5);
    const x = put(xv);
    const y = a.read(seq.forward(x, rows, true));
    const mask = y.map((v, i) => v / xv[i]);
    let kept = 0;
    for (const m of mask) {
      expect(m === 0 || Math.abs(m - 1 / 0.75) < 1e-6).toBe(true);
      if (m !== 0) kept++;
    }
    expect(Math.abs(kept / mask.length - 0.75)).toBeLessThan(0.03);
    // backward of Σ w·y is w ⊙ mask (finite differences of the same masked function)
    const w = randomArray(rows * 40, 4, -1, 1);
    const dy = put(w);
    const dx = a.read(seq.backward(dy, rows)!);
    const x64 = Float64Array.from(xv);
    const f = () => x64.reduce((s, v, i) => s + w[i] * v * mask[i], 0);
    const some = [0, 1, 17, 555, 1999];
    for (const i of some) expect(dx[i]).toBeCloseTo(centralDiff(f, x64, i), 5);
    // inference passes x through untouched, and so does backward
    const yi = a.read(seq.forward(x, rows, false));
    expect(yi).toEqual(xv);
    // same seed, same masks
    const rng2 = new Rng(a, 3);
    const seq2 = new Sequential(k, [40], [{ type: 'dropout', rate: 0.25 }], 'd', true);
    seq2.init(rng2, 'glorotUniform');
    seq2.reserve(rows);
    expect(a.read(seq2.forward(x, rows, true))).toEqual(y);
    seq.dispose();
    seq2.dispose();
    rng.dispose();
    rng2.dispose();
    free(x, dy);
    expect(a.liveTensors()).toBe(live);
  });
});

const toRef = (layers: Dense[]): RefLayer[] => refLayers(a, layers);

/** Compares every parameter gradient with the finite differences of f over the f64 copies. */
function checkParams(params: Param[], layers: RefLayer[], f: () => number, what: string): void {
  params.forEach((p, pi) => {
    const ref = pi % 2 === 0 ? layers[pi >> 1].w : layers[pi >> 1].b;
    const got = a.read(p.grad);
    for (let i = 0; i < ref.length; i++) {
      const fd = centralDiff(f, ref, i);
      if (Math.abs(got[i] - fd) > 2e-5 + 2e-3 * Math.abs(fd)) {
        throw new Error(`${what}: ${p.name}[${i}]: backprop ${got[i]}, finite difference ${fd}`);
      }
    }
  });
}

const bceLogitsSum = (z: Float64Array, t: ArrayLike<number>) =>
  z.reduce((s, v, i) => s + Math.max(v, 0) - v * t[i] + Math.log1p(Math.exp(-Math.abs(v))), 0);

describe('model objectives end to end', () => {
  test.each([
    { loss: 'bce' as const, beta: 1, hidden: [5] },
    { loss: 'mse' as const, beta: 0.5, hidden: [5] },
    { loss: 'bce' as const, beta: 2, hidden: [] as number[] },
  ])('VAE ($loss, β $beta, hidden $hidden): every gradient with ε fixed', ({ loss, beta, hidden }) => {
    const live = liveTensors();
    const D = 7;
    const L = 3;
    const rows = 4;
    const vae = new VAE({ inputSize: D, hidden, latentSize: L, activation: 'tanh', loss, beta,
      outputActivation: loss === 'bce' ? 'sigmoid' : 'linear', optimizer: { type: 'sgd', learningRate: 0 }, seed: 11 });
    const rng = new Rng(a, 5);
    for (const p of vae.params()) if (p.shape.length === 1) rng.uniform(p.value, -0.3, 0.3);
    rng.dispose();
    vae.reserve(rows);
    const xv = randomArray(rows * D, 12, 0, 1);
    const x = put(xv);
    const value = vae.trainStep(x, rows);
    const eps = a.read((vae as unknown as { eps: Tensor }).eps, rows * L);
    const trunk = toRef(vae.encoder.layers as Dense[]);
    const [mu, lv] = toRef([vae.muHead, vae.logVarHead]);
    const dec = toRef(vae.decoder.layers as Dense[]);
    const x64 = Float64Array.from(xv);
    const f = () => {
      const h = trunk.length ? refForward(trunk, x64, rows).y : x64;
      const m = refForward([mu], h, rows).y;
      const l = refForward([lv], h, rows).y;
      const z = m.map((v, i) => v + Math.exp(0.5 * l[i]) * eps[i]);
      const out = refForward(dec, z, rows);
      const rec = loss === 'bce' ? bceLogitsSum(out.z, xv) : out.y.reduce((s, v, i) => s + (v - xv[i]) ** 2, 0);
      const kl = m.reduce((s, v, i) => s - 0.5 * (1 + l[i] - v * v - Math.exp(l[i])), 0);
      return (rec + beta * kl) / rows;
    };
    expect(value).toBeCloseTo(f(), 4);
    checkParams(vae.params(), [...trunk, mu, lv, ...dec], f, `VAE ${loss}`);
    a.release(x);
    vae.dispose();
    expect(liveTensors()).toBe(live);
  });

  test.each([
    { sparsity: { l1: 0.05 }, latentActivation: 'relu' as const },
    { sparsity: { kl: { target: 0.1, weight: 0.7 } }, latentActivation: 'sigmoid' as const },
  ])('sparse autoencoder $sparsity: reconstruction + penalty gradients', ({ sparsity, latentActivation }) => {
    const live = liveTensors();
    const D = 6;
    const rows = 5;
    const sae = new SparseAutoencoder({ inputSize: D, hidden: [5], latentSize: 4, activation: 'tanh', latentActivation, sparsity,
      optimizer: { type: 'sgd', learningRate: 0 }, seed: 2 });
    const rng = new Rng(a, 6);
    for (const p of sae.params()) if (p.shape.length === 1) rng.uniform(p.value, -0.3, 0.3);
    rng.dispose();
    sae.reserve(rows);
    const xv = randomArray(rows * D, 13, 0, 1);
    const x = put(xv);
    const value = sae.trainStep(x, rows);
    const { reconstruction: rec, penalty: pen } = sae.lastMetrics;
    expect(value).toBe(rec + pen);
    expect(pen).toBeGreaterThan(0);
    const enc = toRef(sae.encoder.layers as Dense[]);
    const dec = toRef(sae.decoder.layers as Dense[]);
    const x64 = Float64Array.from(xv);
    const L = 4;
    const f = () => {
      const z = refForward(enc, x64, rows).y;
      const out = refForward(dec, z, rows);
      let p: number;
      if ('l1' in sparsity) {
        p = ((sparsity.l1 as number) * z.reduce((s, v) => s + Math.abs(v), 0)) / z.length;
      } else {
        const { target: r, weight } = sparsity.kl!;
        p = 0;
        for (let j = 0; j < L; j++) {
          let m = 0;
          for (let i = 0; i < rows; i++) m += z[i * L + j];
          m /= rows;
          p += weight * (r * Math.log(r / m) + (1 - r) * Math.log((1 - r) / (1 - m)));
        }
      }
      return bceLogitsSum(out.z, xv) / xv.length + p;
    };
    expect(value).toBeCloseTo(f(), 5);
    checkParams(sae.params(), [...enc, ...dec], f, 'sparse');
    a.release(x);
    sae.dispose();
    expect(liveTensors()).toBe(live);
  });

  test.each([
    { type: 'gaussian' as const, std: 0.4 },
    { type: 'mask' as const, p: 0.3 },
    { type: 'saltPepper' as const, p: 0.3 },
  ])('denoising ($type): gradients of the clean-target loss on the corrupted input', (noise) => {
    const live = liveTensors();
    const D = 8;
    const rows = 6;
    const dae = new DenoisingAutoencoder({ inputSize: D, hidden: [5], latentSize: 3, activation: 'elu', noise,
      optimizer: { type: 'sgd', learningRate: 0 }, seed: 4 });
    dae.reserve(rows);
    const xv = randomArray(rows * D, 14, 0.05, 0.95);
    const x = put(xv);
    dae.trainStep(x, rows);
    const corrupted = a.read((dae as unknown as { noisy: Tensor }).noisy, rows * D);
    // the corruption has the promised form
    let changed = 0;
    corrupted.forEach((c, i) => {
      if (noise.type === 'mask') expect(c === 0 || c === xv[i]).toBe(true);
      if (noise.type === 'saltPepper') expect(c === 0 || c === 1 || c === xv[i]).toBe(true);
      if (noise.type === 'gaussian') expect(c >= 0 && c <= 1).toBe(true);
      if (c !== xv[i]) changed++;
    });
    expect(changed).toBeGreaterThan(noise.type === 'gaussian' ? rows * D * 0.8 : 3);
    const enc = toRef(dae.encoder.layers as Dense[]);
    const dec = toRef(dae.decoder.layers as Dense[]);
    const c64 = Float64Array.from(corrupted);
    const f = () => bceLogitsSum(refForward(dec, refForward(enc, c64, rows).y, rows).z, xv) / xv.length;
    checkParams(dae.params(), [...enc, ...dec], f, `denoising ${noise.type}`);
    a.release(x);
    dae.dispose();
    expect(liveTensors()).toBe(live);
  });
});
