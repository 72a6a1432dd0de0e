// assembly/conv.ts against plain float64 JS references, in both builds: im2col / col2im (and
// their adjointness), max and average pooling, nearest and bilinear upsampling, the per-channel
// bias+activation epilogue and the per-channel bias gradient. Shapes sit around the f32x4 width
// and at the edges: odd sizes, stride 1/2/3, padding 0/1/2, kernel 1/2/3/5, dilation 1/2,
// channels 1/3/4, batch 1/3.
import { describe, expect, test } from 'vitest';
import { BUILDS, scratchCore } from './helpers/core.js';
import { expectAllClose, randomArray } from './helpers/reference.js';
import { f64Activation } from './helpers/reference-nn.js';
import { ACTIVATIONS, type ActivationName } from '../src/runtime/abi.js';
import type { ConvGeometry } from '../src/runtime/kernels.js';


/** A geometry with PyTorch's output size, or null when the window does not fit. */
function geometry(c: number, h: number, w: number, k: number, s: number, p: number, d: number): ConvGeometry | null {
  const oh = Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;
  const ow = Math.floor((w + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (oh < 1 || ow < 1) return null;
  return { c, h, w, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, oh, ow };
}

const label = (g: ConvGeometry, batch: number) =>
  `batch ${batch} c ${g.c} ${g.h}×${g.w} k ${g.kh} s ${g.sh} p ${g.ph} d ${g.dh} → ${g.oh}×${g.ow}`;

function im2colRef(x: ArrayLike<number>, batch: number, g: ConvGeometry): Float64Array {
  const rows = g.c * g.kh * g.kw;
  const cols = g.oh * g.ow;
  const out = new Float64Array(batch * rows * cols);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < g.c; c++)
      for (let ki = 0; ki < g.kh; ki++)
        for (let kj = 0; kj < g.kw; kj++) {
          const r = (c * g.kh + ki) * g.kw + kj;
          for (let oy = 0; oy < g.oh; oy++)
            for (let ox = 0; ox < g.ow; ox++) {
              const iy = oy * g.sh - g.ph + ki * g.dh;
              const ix = ox * g.sw - g.pw + kj * g.dw;
              const inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
              out[(b * rows + r) * cols + oy * g.ow + ox] = inside ? x[((b * g.c + c) * g.h + iy) * g.w + ix] : 0;
            }
        }
  return out;
}

function col2imRef(col: ArrayLike<number>, batch: number, g: ConvGeometry): Float64Array {
  const rows = g.c * g.kh * g.kw;
  const cols = g.oh * g.ow;
  const x = new Float64Array(batch * g.c * g.h * g.w);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < g.c; c++)
      for (let ki = 0; ki < g.kh; ki++)
        for (let kj = 0; kj < g.kw; kj++) {
          const r = (c * g.kh + ki) * g.kw + kj;
          for (let oy = 0; oy < g.oh; oy++)
            for (let ox = 0; ox < g.ow; ox++) {
              const iy = oy * g.sh - g.ph + ki * g.dh;
              const ix = ox * g.sw - g.pw + kj * g.dw;
              if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
                x[((b * g.c + c) * g.h + iy) * g.w + ix] += col[(b * rows + r) * cols + oy * g.ow + ox];
              }
            }
        }
  return x;
}

/** Pooling reference: for each output, the in-image window values and their plane indices. */
function poolRef(x: ArrayLike<number>, planes: number, g: ConvGeometry, kind: 'max' | 'avg') {
  const y = new Float64Array(planes * g.oh * g.ow);
  const idx = new Int32Array(planes * g.oh * g.ow);
  for (let p = 0; p < planes; p++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        let best = -Infinity;
        let at = -1;
        let sum = 0;
        for (let ki = 0; ki < g.kh; ki++)
          for (let kj = 0; kj < g.kw; kj++) {
            const iy = oy * g.sh - g.ph + ki;
            const ix = ox * g.sw - g.pw + kj;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            const v = x[(p * g.h + iy) * g.w + ix];
            sum += v;
            if (v > best) {
              best = v;
              at = iy * g.w + ix;
            }
          }
        const o = (p * g.oh + oy) * g.ow + ox;
        y[o] = kind === 'max' ? best : sum / (g.kh * g.kw);
        idx[o] = at;
      }
  return { y, idx };
}

function poolBackwardRef(dy: ArrayLike<number>, planes: number, g: ConvGeometry, kind: 'max' | 'avg', idx: Int32Array): Float64Array {
  const dx = new Float64Array(planes * g.h * g.w);
  for (let p = 0; p < planes; p++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        const o = (p * g.oh + oy) * g.ow + ox;
        if (kind === 'max') {
          dx[p * g.h * g.w + idx[o]] += dy[o];
          continue;
        }
        for (let ki = 0; ki < g.kh; ki++)
          for (let kj = 0; kj < g.kw; kj++) {
            const iy = oy * g.sh - g.ph + ki;
            const ix = ox * g.sw - g.pw + kj;
            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) dx[(p * g.h + iy) * g.w + ix] += dy[o] / (g.kh * g.kw);
          }
      }
  return dx;
}

/**
 * Upsampling as a sparse linear map, written from PyTorch's definitions: for each output pixel
 * the list of (input index, weight). Forward y = M·x, backward dx = Mᵀ·dy.
 */
function upsampleTaps(mode: 'nearest' | 'bilinear', h: number, w: number, fh: number, fw: number): [number, number][][] {
  const oh = h * fh;
  const ow = w * fw;
  const taps: [number, number][][] = [];
  const axis = (o: number, n: number, f: number): [number, number][] => {
    if (mode === 'nearest') return [[Math.min(Math.floor(o / f), n - 1), 1]];
    const src = Math.max((o + 0.5) / f - 0.5, 0); // align_corners = false
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, n - 1);
    const l1 = src - i0;
    return [[i0, 1 - l1], [i1, l1]];
  };
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++) {
      const t: [number, number][] = [];
      for (const [iy, wy] of axis(oy, h, fh)) for (const [ix, wx] of axis(ox, w, fw)) t.push([iy * w + ix, wy * wx]);
      taps.push(t);
    }
  return taps;
}

const SIZES: [number, number][] = [[5, 7], [8, 9], [13, 6], [4, 4], [16, 17]];
const CHANNELS = [1, 3, 4];
const BATCHES = [1, 3];

/** Every (kernel, stride, padding, dilation) with the other dimensions cycled through. */
function convCases(): { g: ConvGeometry; batch: number }[] {
  const out: { g: ConvGeometry; batch: number }[] = [];
  let i = 0;
  for (const k of [1, 2, 3, 5])
    for (const s of [1, 2, 3])
      for (const p of [0, 1, 2])
        for (const d of [1, 2]) {
          const [h, w] = SIZES[i % SIZES.length];
          const g = geometry(CHANNELS[i % 3], h, w, k, s, p, d);
          const batch = BATCHES[(i >> 1) % 2];
          i++;
          if (g) out.push({ g, batch });
        }
  return out;
}

describe.each(BUILDS)('conv kernels (%s build)', (simd) => {
  test.each([false, true])('im2col equals the reference exactly; col2im within f32 rounding; accumulate adds (batched layout: %s)', async (batched) => {
    const s = await scratchCore(simd);
    const ex = s.ex;
    const cases = convCases();
    expect(cases.length).toBeGreaterThan(50);
    for (const [ci, { g, batch }] of cases.entries()) {
      const rowsPer = g.c * g.kh * g.kw;
      const ohw = g.oh * g.ow;
      // sample b's row r at b·sampleStride + r·rowStride; the reference is per sample [b, r, p]
      const [rowStride, sampleStride] = batched ? [batch * ohw, ohw] : [ohw, rowsPer * ohw];
      const layout = (v: ArrayLike<number>) => {
        const out = new Float64Array(v.length);
        for (let b = 0; b < batch; b++)
          for (let r = 0; r < rowsPer; r++)
            for (let p = 0; p < ohw; p++) out[b * sampleStride + r * rowStride + p] = v[(b * rowsPer + r) * ohw + p];
        return out;
      };
      s.reset();
      const nx = batch * g.c * g.h * g.w;
      const ncol = batch * g.c * g.kh * g.kw * g.oh * g.ow;
      const xv = randomArray(nx, 100 + ci);
      const x = s.put(xv);
      const col = s.put(new Float32Array(ncol).fill(NaN)); // every value must be written
      ex.f32_im2col(x, col, batch, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow, rowStride, sampleStride);
      expectAllClose(s.read(col, ncol), layout(im2colRef(xv, batch, g)), { atol: 0, rtol: 0, what: `im2col ${label(g, batch)}` });

      const cvSample = randomArray(ncol, 200 + ci);
      const cv = layout(cvSample);
      const colIn = s.put(cv);
      const back = s.put(new Float32Array(nx).fill(NaN)); // not read without accumulate
      ex.f32_col2im(colIn, back, batch, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow, rowStride, sampleStride, 0);
      const ref = col2imRef(cvSample, batch, g);
      expectAllClose(s.read(back, nx), ref, { atol: 1e-6, rtol: 1e-6, what: `col2im ${label(g, batch)}` });
      ex.f32_col2im(colIn, back, batch, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow, rowStride, sampleStride, 1);
      expectAllClose(s.read(back, nx), ref.map((v) => 2 * v), { atol: 2e-6, rtol: 2e-6, what: `col2im accumulate ${label(g, batch)}` });

      // adjointness: <im2col(x), y> = <x, col2im(y)>, both sides from the kernels' outputs
      const ix = s.read(col, ncol);
      const cx = s.read(back, nx);
      let lhs = 0;
      let rhs = 0;
      let scale = 0;
      for (let i = 0; i < ncol; i++) lhs += ix[i] * cv[i];
      for (let i = 0; i < nx; i++) {
        rhs += xv[i] * (cx[i] / 2);
        scale += Math.abs(xv[i] * cx[i]);
      }
      if (Math.abs(lhs - rhs) > 1e-6 * (1 + scale)) throw new Error(`adjointness ${label(g, batch)}: ${lhs} vs ${rhs}`);
    }
  });

  test('swap_blocks swaps the outer axes of [d0, d1, inner] (inner 1: the tiled transpose, at tile edges)', async () => {
    const s = await scratchCore(simd);
    for (const [d0, d1, inner] of [[1, 1, 1], [3, 5, 7], [16, 4, 49], [2, 3, 1], [4, 4, 1], [9, 14, 1], [13, 6, 1], [144, 37, 1]]) {
      s.reset();
      const n = d0 * d1 * inner;
      const v = randomArray(n, d0 * 100 + d1);
      const src = s.put(v);
      const dst = s.put(new Float32Array(n).fill(NaN));
      s.ex.f32_swap_blocks(src, dst, d0, d1, inner);
      const ref = new Float32Array(n);
      for (let i = 0; i < d0; i++) for (let j = 0; j < d1; j++) for (let p = 0; p < inner; p++) ref[(j * d0 + i) * inner + p] = v[(i * d1 + j) * inner + p];
      expect(Array.from(s.read(dst, n))).toEqual(Array.from(ref));
    }
  });

  test('max and average pooling, forward and backward (no ties)', async () => {
    const s = await scratchCore(simd);
    const ex = s.ex;
    let n = 0;
    for (const k of [1, 2, 3, 5])
      for (const st of [1, 2, 3])
        for (const p of [0, 1, 2]) {
          if (p > k >> 1) continue; // PyTorch: padding at most half the kernel
          const [h, w] = SIZES[n % SIZES.length];
          const g = geometry(CHANNELS[n % 3], h, w, k, st, p, 1);
          const batch = BATCHES[n % 2];
          n++;
          if (!g) continue;
          s.reset();
          const planes = batch * g.c;
          const nx = planes * g.h * g.w;
          const ny = planes * g.oh * g.ow;
          // distinct values (a shuffled ramp), so the maximum of every window is unique
          const xv = randomArray(nx, 300 + n).map((v, i) => i / nx + v * 1e-3);
          const x = s.put(xv);
          const y = s.alloc(ny);
          const idx = s.alloc(ny);
          const dyv = randomArray(ny, 400 + n);
          const dy = s.put(dyv);
          const dx = s.put(new Float32Array(nx).fill(NaN));
          const what = label(g, batch);

          const max = poolRef(xv, planes, g, 'max');
          ex.f32_maxpool2d(x, y, idx, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow);
          expectAllClose(s.read(y, ny), max.y, { atol: 0, rtol: 0, what: `maxpool ${what}` });
          expect(Array.from(s.i32(idx, ny))).toEqual(Array.from(max.idx));
          ex.f32_maxpool2d_backward(dy, idx, dx, planes, g.h, g.w, g.oh, g.ow);
          expectAllClose(s.read(dx, nx), poolBackwardRef(dyv, planes, g, 'max', max.idx), { atol: 1e-6, rtol: 1e-6, what: `maxpool bwd ${what}` });

          const avg = poolRef(xv, planes, g, 'avg');
          ex.f32_avgpool2d(x, y, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow);
          expectAllClose(s.read(y, ny), avg.y, { atol: 1e-6, rtol: 1e-6, what: `avgpool ${what}` });
          s.f32(dx, nx).fill(NaN);
          ex.f32_avgpool2d_backward(dy, dx, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow);
          expectAllClose(s.read(dx, nx), poolBackwardRef(dyv, planes, g, 'avg', avg.idx), { atol: 1e-6, rtol: 1e-6, what: `avgpool bwd ${what}` });
        }
    expect(n).toBeGreaterThan(20);
  });

  test('max pooling: the first maximum wins a tie, NaN propagates (PyTorch)', async () => {
    const s = await scratchCore(simd);
    s.reset();
    const x = s.put([1, 3, 3, 0, NaN, 2, 5, 5, 1]); // one 3×3 plane
    const y = s.alloc(4);
    const idx = s.alloc(4);
    // kernel 2, stride 1: windows {1,3,NaN,2}... → the NaN window wins with NaN
    s.ex.f32_maxpool2d(x, y, idx, 1, 3, 3, 2, 2, 1, 1, 0, 0, 2, 2);
    const yv = s.read(y, 4);
    expect(Number.isNaN(yv[0])).toBe(true);
    expect(Number.isNaN(yv[1])).toBe(true);
    expect(Array.from(s.i32(idx, 4))).toEqual([4, 4, 4, 4]);
    const x2 = s.put([1, 3, 3, 0, 2, 2, 5, 5, 1]);
    s.ex.f32_maxpool2d(x2, y, idx, 1, 3, 3, 2, 2, 1, 1, 0, 0, 2, 2);
    expect(Array.from(s.read(y, 4))).toEqual([3, 3, 5, 5]);
    expect(Array.from(s.i32(idx, 4))).toEqual([1, 1, 6, 7]); // the first 3 of each window, the first 5
  });

  test.each(['nearest', 'bilinear'] as const)('%s upsampling, forward and backward', async (mode) => {
    const s = await scratchCore(simd);
    const ex = s.ex;
    let n = 0;
    for (const [h, w] of [[1, 1], [3, 5], [4, 4], [7, 2]] as const)
      for (const [fh, fw] of [[1, 1], [2, 2], [3, 2], [2, 5]] as const) {
        s.reset();
        const planes = CHANNELS[n % 3] * BATCHES[n % 2];
        n++;
        const oh = h * fh;
        const ow = w * fw;
        const nx = planes * h * w;
        const ny = planes * oh * ow;
        const xv = randomArray(nx, 500 + n);
        const dyv = randomArray(ny, 600 + n);
        const taps = upsampleTaps(mode, h, w, fh, fw);
        const yRef = new Float64Array(ny);
        const dxRef = new Float64Array(nx);
        for (let p = 0; p < planes; p++)
          for (let o = 0; o < oh * ow; o++)
            for (const [i, wt] of taps[o]) {
              yRef[p * oh * ow + o] += wt * xv[p * h * w + i];
              dxRef[p * h * w + i] += wt * dyv[p * oh * ow + o];
            }
        const x = s.put(xv);
        const y = s.put(new Float32Array(ny).fill(NaN));
        const dy = s.put(dyv);
        const dx = s.put(new Float32Array(nx).fill(NaN));
        const what = `${mode} planes ${planes} ${h}×${w} ×(${fh}, ${fw})`;
        if (mode === 'nearest') {
          ex.f32_upsample_nearest2d(x, y, planes, h, w, fh, fw);
          ex.f32_upsample_nearest2d_backward(dy, dx, planes, h, w, fh, fw);
        } else {
          ex.f32_upsample_bilinear2d(x, y, planes, h, w, oh, ow, 1 / fh, 1 / fw);
          ex.f32_upsample_bilinear2d_backward(dy, dx, planes, h, w, oh, ow, 1 / fh, 1 / fw);
        }
        expectAllClose(s.read(y, ny), yRef, { atol: 1e-6, rtol: 1e-6, what });
        expectAllClose(s.read(dx, nx), dxRef, { atol: 2e-6, rtol: 2e-6, what: `${what} backward` });
      }
  });

  test('bilinear ×2 of a 2×2 plane: PyTorch values (align_corners=False)', async () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), scale_factor=2, mode='bilinear')
    const s = await scratchCore(simd);
    s.reset();
    const x = s.put([1, 2, 3, 4]);
    const y = s.alloc(16);
    s.ex.f32_upsample_bilinear2d(x, y, 1, 2, 2, 4, 4, 0.5, 0.5);
    expect(Array.from(s.read(y, 16))).toEqual([
      1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4,
    ]);
  });

  test.each(['linear', 'relu', 'sigmoid', 'tanh'] as ActivationName[])('per-channel bias + %s, and the channel sum', async (act) => {
    const s = await scratchCore(simd);
    const ex = s.ex;
    for (const [batch, c, hw] of [[1, 1, 1], [3, 4, 7], [2, 3, 16], [1, 16, 49], [3, 2, 33]]) {
      s.reset();
      const n = batch * c * hw;
      const zv = randomArray(n, 700 + hw);
      const bv = randomArray(c, 800 + c);
      const z = s.put(zv);
      const bias = s.put(bv);
      const y = s.alloc(n);
      ex.f32_bias_channels_act(ACTIVATIONS[act], 0, z, bias, y, batch, c, hw);
      const zRef = zv.map((v, i) => Math.fround(v + bv[Math.floor(i / hw) % c]));
      const what = `${act} batch ${batch} c ${c} hw ${hw}`;
      expectAllClose(s.read(z, n), zRef, { atol: 0, rtol: 0, what: `${what} z` });
      expectAllClose(s.read(y, n), Array.from(zRef, (v) => f64Activation[act](v, 0)), { atol: 1e-6, rtol: 1e-5, what: `${what} y` });
      // in place (y = z) gives the same bits
      const z2 = s.put(zv);
      ex.f32_bias_channels_act(ACTIVATIONS[act], 0, z2, bias, z2, batch, c, hw);
      expect(Array.from(s.read(z2, n))).toEqual(Array.from(s.read(y, n)));

      const out = s.put(new Float32Array(c).fill(NaN));
      ex.f32_channel_sum(z, out, batch, c, hw, 0);
      const sums = new Float64Array(c);
      const zs = s.read(z, n);
      for (let i = 0; i < n; i++) sums[Math.floor(i / hw) % c] += zs[i];
      expectAllClose(s.read(out, c), sums, { atol: 1e-5, rtol: 1e-5, what: `${what} channel sum` });
      ex.f32_channel_sum(z, out, batch, c, hw, 1);
      expectAllClose(s.read(out, c), sums.map((v) => 2 * v), { atol: 2e-5, rtol: 1e-5, what: `${what} channel sum accumulate` });
    }
  });
});
