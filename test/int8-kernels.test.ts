// assembly/int8.ts (i8_quantize_rows, i8_gemm_panels through Kernels) against a scalar JS model
// of the exact arithmetic it documents, bit for bit, in the strict and the relaxed build:
//   q = clamp(nearest(x / s), ±127) with s = fixed or max|row|/127 (f32 division, ties to even);
//   c = ((f32(Σ a·w) · sa[i]) · sw[j]) + bias[j], the sum exact in i32.
// Sizes cover the 4-row × 8-column tile and the 8-wide quantize loop: equal, below, above and
// multiples, odd k (the pad column), and k = 784 (the card model).
import { describe, expect, test } from 'vitest';
import { createCore, type SimdMode } from '../src/runtime/load.js';
import { Arena } from '../src/runtime/memory.js';
import { Kernels } from '../src/runtime/kernels.js';
import { quantizeWeights } from '../src/models/quantized.js';
import { mulberry32 } from './helpers/reference.js';
import { refGemm, refQuantize } from './helpers/int8.js';

const f = Math.fround;

const kernelsFor = new Map<SimdMode, Promise<Kernels>>();
function kernels(simd: SimdMode): Promise<Kernels> {
  let p = kernelsFor.get(simd);
  if (!p) kernelsFor.set(simd, (p = createCore({ simd }).then((core) => new Kernels(new Arena(core)))));
  return p;
}

function uniform(rand: () => number, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** quantizeRows then gemmI8 on fresh tensors: c (m×n) and 8 sentinels after it (−7 if untouched). */
function int8Linear(k: Kernels, x: Float32Array, weight: Int8Array, weightScale: Float32Array, bias: Float32Array,
  m: number, n: number, kk: number, fixed = 0): Float32Array {
  const a = k.arena;
  const [xt, qt, sa, panels, sw, bt, ct] = [m * kk, k.i8RowsSize(m, kk), m, k.i8PanelsSize(n, kk), n, n, m * n + 8].map((s) => a.alloc(s));
  a.write(xt, x);
  a.write(sw, weightScale);
  a.write(bt, bias);
  a.f32(ct).fill(-7);
  k.packI8Panels(n, kk, weight, panels);
  k.quantizeRows(xt, qt, sa, m, kk, fixed);
  k.gemmI8(m, n, kk, qt, panels, sa, sw, bt, ct);
  const c = a.read(ct);
  for (const t of [xt, qt, sa, panels, sw, bt, ct]) a.release(t);
  return c;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The activations the core quantized, read back as integers [m × k] (pad column dropped) and its pad. */
function readQ(k: Kernels, qt: ReturnType<Kernels['arena']['alloc']>, m: number, kk: number): { q: Int16Array; pads: number[] } {
  const kp = kk + (kk & 1);
  const all = new Int16Array(k.arena.bytes(qt).slice().buffer, 0, m * kp);
  const q = new Int16Array(m * kk);
  const pads: number[] = [];
  for (let i = 0; i < m; i++) {
    q.set(all.subarray(i * kp, i * kp + kk), i * kk);
    if (kp > kk) pads.push(all[i * kp + kk]);
  }
  return { q, pads };
}

describe.each(['strict', 'relaxed'] as SimdMode[])('int8 kernels, %s build', (simd) => {
  test('quantizeRows: per-row and fixed scales, ties to even, saturation, zero rows, odd k', async () => {
    const k = await kernels(simd);
    const a = k.arena;
    const rand = mulberry32(7);
    for (const kk of [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 784]) {
      for (const m of [1, 3, 5]) {
        const x = uniform(rand, m * kk, -3, 3);
        x.fill(0, 0, kk); // a row of zeros: scale 1, all q 0
        // halves of the fixed scale 0.5 below: x/s lands exactly on .5 (ties to even)
        if (m > 1) for (let j = 0; j < kk; j++) x[kk + j] = (j - kk / 2) * 0.25;
        for (const fixed of [0, 0.5, 0.01]) {
          const xt = a.alloc(m * kk);
          const qt = a.alloc(k.i8RowsSize(m, kk));
          const st = a.alloc(m);
          a.write(xt, x);
          a.bytes(qt).fill(0x55); // the pad column must be written
          k.quantizeRows(xt, qt, st, m, kk, fixed);
          const ref = refQuantize(x, m, kk, fixed);
          const got = readQ(k, qt, m, kk);
          const where = `k=${kk} m=${m} fixed=${fixed}`;
          expect(Array.from(got.q), where).toEqual(Array.from(ref.q));
          expect(got.pads.every((v) => v === 0), where).toBe(true);
          expect(bits(a.read(st)), where).toEqual(bits(ref.s));
          for (const t of [xt, qt, st]) a.release(t);
        }
      }
    }
  });

  test('gemmI8: bit for bit against the scalar model, tile edges (m, n, k below, at, above and multiples of 4×8, odd k)', async () => {
    const k = await kernels(simd);
    const rand = mulberry32(11);
    let cases = 0;
    for (const m of [1, 2, 3, 4, 5, 8, 9, 13]) {
      for (const n of [1, 3, 7, 8, 9, 16, 17, 33]) {
        for (const kk of [1, 2, 3, 15, 16, 17, 33, 784]) {
          const x = uniform(rand, m * kk, -1, 2);
          const wf = uniform(rand, n * kk, -0.5, 0.5);
          const { weight, weightScale } = quantizeWeights(wf, n, kk);
          const bias = uniform(rand, n, -1, 1);
          const got = int8Linear(k, x, weight, weightScale, bias, m, n, kk);
          const ref = refQuantize(x, m, kk, 0);
          const want = refGemm(ref.q, ref.s, weight, weightScale, bias, m, n, kk);
          const where = `m=${m} n=${n} k=${kk}`;
          expect(bits(got.subarray(0, m * n)), where).toEqual(bits(want));
          expect(Array.from(got.subarray(m * n)), where).toEqual(new Array(8).fill(-7));
          cases++;
        }
      }
    }
    expect(cases).toBe(512);
  });

  test('gemmI8: the extremes (all ±127 over k = 784) sum exactly in i32', async () => {
    const k = await kernels(simd);
    const m = 5;
    const n = 9;
    const kk = 784;
    const x = new Float32Array(m * kk).map((_, i) => (i % 3 === 0 ? -1 : 1));
    const weight = new Int8Array(n * kk).map((_, i) => (i % 5 === 0 ? 127 : -127));
    const ones = new Float32Array(n).fill(1);
    // q = ±127 exactly (fixed scale 1/127): |acc| up to 127²·784 = 12,645,136, exact in f32 too
    const got = int8Linear(k, x, weight, ones, new Float32Array(n), m, n, kk, 1 / 127);
    const sx = refQuantize(x, m, kk, 1 / 127);
    expect(Array.from(sx.q).every((v) => Math.abs(v) === 127)).toBe(true);
    expect(bits(got.subarray(0, m * n))).toEqual(bits(refGemm(sx.q, sx.s, weight, ones, new Float32Array(n), m, n, kk)));
  });
});

test('the strict and relaxed builds give the same int8 GEMM bits (no relaxed instruction in the int8 path)', async () => {
  const rand = mulberry32(3);
  const [m, n, kk] = [7, 19, 101];
  const x = uniform(rand, m * kk, 0, 1);
  const { weight, weightScale } = quantizeWeights(uniform(rand, n * kk, -1, 1), n, kk);
  const bias = uniform(rand, n, -1, 1);
  const out: number[][] = [];
  for (const simd of ['strict', 'relaxed'] as SimdMode[]) {
    out.push(bits(int8Linear(await kernels(simd), x, weight, weightScale, bias, m, n, kk)));
  }
  expect(out[1]).toEqual(out[0]);
});

test('quantizeWeights: per output channel, |w − q·s| ≤ s/2, scale max|row|/127, zero rows scale 1', () => {
  const rand = mulberry32(5);
  const [n, k] = [6, 13];
  const w = uniform(rand, n * k, -2, 2);
  w.fill(0, 2 * k, 3 * k);
  const { weight, weightScale } = quantizeWeights(w, n, k);
  for (let j = 0; j < n; j++) {
    let mx = 0;
    for (let p = 0; p < k; p++) mx = Math.max(mx, Math.abs(w[j * k + p]));
    expect(weightScale[j]).toBe(j === 2 ? 1 : f(mx / 127));
    for (let p = 0; p < k; p++) {
      expect(Math.abs(w[j * k + p] - weight[j * k + p] * weightScale[j])).toBeLessThanOrEqual(weightScale[j] / 2 + 1e-7);
      expect(Math.abs(weight[j * k + p])).toBeLessThanOrEqual(127);
    }
    if (j !== 2) expect(Math.max(...Array.from(weight.subarray(j * k, j * k + k), Math.abs))).toBe(127);
  }
});
