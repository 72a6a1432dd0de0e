// int8 inference: symmetric quantization of activations per row, and an int8 × int8 GEMM that
// accumulates in i32 and dequantizes in its epilogue.
//
// Numbers (the determinism contract): quantized values are integers in [−127, 127] held as i16
// (activations) or i8 (weights); products are summed exactly in i32 with i32x4.dot_i16x8_s
// (plain SIMD128, pmaddwd on x64), so the sum is the same integer in any order, on any engine,
// in the strict and the relaxed build alike. |sum| ≤ 127² · k < 2³¹ for k < 133,000. The only
// rounding is in f32, in a fixed order, lane-wise and identical in the scalar tails:
//   quantize:   q = clamp(nearest(x / s), −127, 127)   (f32 division, ties to even)
//   epilogue:   c = ((f32(acc) · sa[i]) · sw[j]) + bias[j]   (plain mul + add, never fused)
// so a scalar JS model of the same steps reproduces every output bit for bit (test/int8*.test.ts).
//
// Layouts:
// - Activations A: i16 [m × kp], kp = k rounded up to even, the pad column 0 (dot_i16x8_s sums
//   pairs of k).
// - Weights W [n × k] (PyTorch's [out, in]) packed into panels of 8 columns: for each pair of k,
//   16 bytes w[j0, 2p], w[j0, 2p+1], w[j1, 2p], …, w[j7, 2p+1]; the panel of columns j..j+7 is
//   8·kp bytes; columns past n and the pad k are 0. v128.load8x8_s sign-extends one half (4
//   columns × 2 k) to i16x8, and one dot against the broadcast pair (a[i, 2p], a[i, 2p+1]) adds
//   both products of those 4 columns into 4 i32 lanes: 8 multiply-adds in 3 instructions
//   (load8x8_s, dot, add) with the weights read straight from memory, which is how XNNPACK's
//   qs8 WASM SIMD GEMMs ("c2" layouts) are built.

import { loadLanes, storeLanes } from './simd';
import { parallelI8Gemm, parallelI8Quantize } from './parallel';

const QMAX: f32 = 127;

/**
 * Quantizes the rows of x (f32 [m × k]) into q (i16 [m × kp], kp = k or k + 1 when k is odd; the
 * pad column is written 0) and writes each row's scale to scales[i]. fixedScale > 0: that scale
 * for every row (static, from calibration; values beyond ±127·s saturate). Otherwise per row:
 * s = max|x[i, :]| / 127 (s = 1 for a row of zeros or one so small that s underflows).
 */
export function i8_quantize_rows(x: usize, q: usize, scales: usize, m: i32, k: i32, kp: i32, fixedScale: f32): void {
  if (ASC_FEATURE_THREADS) {
    if (parallelI8Quantize(x, q, scales, m, k, kp, fixedScale)) return;
  }
  const k4 = k & ~3;
  const lo = f32x4.splat(-QMAX);
  const hi = f32x4.splat(QMAX);
  for (let i = 0; i < m; i++) {
    const row = x + ((<usize>i * <usize>k) << 2);
    const out = q + ((<usize>i * <usize>kp) << 1);
    let s = fixedScale;
    if (!(s > 0)) {
      // max|x| is exact whatever the order
      let mv = f32x4.splat(0);
      let j = 0;
      for (; j < k4; j += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(row + (<usize>j << 2))));
      let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
      for (; j < k; j++) mx = max(mx, abs<f32>(load<f32>(row + (<usize>j << 2))));
      s = mx / QMAX;
      if (!(s > 0)) s = 1;
    }
    store<f32>(scales + (<usize>i << 2), s);
    const vs = f32x4.splat(s);
    let j = 0;
    for (; j + 8 <= k; j += 8) {
      const p = row + (<usize>j << 2);
      const q0 = quant4(v128.load(p), vs, lo, hi);
      const q1 = quant4(v128.load(p, 16), vs, lo, hi);
      v128.store(out + (<usize>j << 1), i16x8.narrow_i32x4_s(q0, q1));
    }
    // the tail, one value at a time through the same lane arithmetic
    for (; j < k; j++) {
      const v = quant4(f32x4.splat(load<f32>(row + (<usize>j << 2))), vs, lo, hi);
      store<i16>(out + (<usize>j << 1), <i16>i32x4.extract_lane(v, 0));
    }
    if (kp > k) store<i16>(out + (<usize>k << 1), 0);
  }
}

// @ts-ignore: decorator
@inline function quant4(x: v128, s: v128, lo: v128, hi: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.max(f32x4.min(f32x4.nearest(f32x4.div(x, s)), hi), lo));
}

/**
 * C[m × n] (f32) = dequantized A·Wᵀ + bias: acc = Σ_p a[i, p]·w[j, p] in i32, then
 * c[i, j] = ((f32(acc) · sa[i]) · sw[j]) + bias[j]. A: i16 [m × kp] (i8_quantize_rows), W: the
 * panels described at the top (kp even), sa: m row scales, sw and bias: n values each.
 *
 * Tiles of 4 rows × 8 columns keep 8 i32x4 accumulators, 2 weight vectors and 1 broadcast in
 * registers (V8 x64 has ~15); per pair of k: 2 weight loads, 4 broadcasts, 8 dots,
 * 8 adds for 64 multiply-adds. Leftover rows run the 1-row kernel (batch-1 inference: 3
 * instructions per 8 multiply-adds, weights streamed once).
 */
export function i8_gemm_panels(m: i32, n: i32, kp: i32, a: usize, panels: usize, sa: usize, sw: usize, bias: usize, c: usize): void {
  if (ASC_FEATURE_THREADS) {
    if (parallelI8Gemm(m, n, kp, a, panels, sa, sw, bias, c)) return;
  }
  const steps = kp >> 1;
  const lda = <usize>kp << 1;
  const ldc = <usize>n << 2;
  const panelBytes = <usize>kp << 3;
  for (let j = 0; j < n; j += 8) {
    const w = panels + <usize>(j >> 3) * panelBytes;
    const cols = min(8, n - j);
    const swj = sw + (<usize>j << 2);
    const bj = bias + (<usize>j << 2);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      let a0 = a + <usize>i * lda;
      let a1 = a0 + lda;
      let a2 = a1 + lda;
      let a3 = a2 + lda;
      let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
      let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
      let pw = w;
      for (let s = 0; s < steps; s++) {
        const w0 = v128.load8x8_s(pw);
        const w1 = v128.load8x8_s(pw, 8);
        let av = v128.load32_splat(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(av, w0));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(av, w1));
        av = v128.load32_splat(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(av, w0));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(av, w1));
        av = v128.load32_splat(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(av, w0));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(av, w1));
        av = v128.load32_splat(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(av, w0));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(av, w1));
        pw += 16;
        a0 += 4;
        a1 += 4;
        a2 += 4;
        a3 += 4;
      }
      const ci = c + <usize>i * ldc + (<usize>j << 2);
      dequant8(ci, c00, c01, load<f32>(sa + (<usize>i << 2)), swj, bj, cols);
      dequant8(ci + ldc, c10, c11, load<f32>(sa + (<usize>(i + 1) << 2)), swj, bj, cols);
      dequant8(ci + 2 * ldc, c20, c21, load<f32>(sa + (<usize>(i + 2) << 2)), swj, bj, cols);
      dequant8(ci + 3 * ldc, c30, c31, load<f32>(sa + (<usize>(i + 3) << 2)), swj, bj, cols);
    }
    for (; i < m; i++) {
      let a0 = a + <usize>i * lda;
      let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
      let pw = w;
      for (let s = 0; s < steps; s++) {
        const av = v128.load32_splat(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(av, v128.load8x8_s(pw)));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(av, v128.load8x8_s(pw, 8)));
        pw += 16;
        a0 += 4;
      }
      dequant8(c + <usize>i * ldc + (<usize>j << 2), c00, c01, load<f32>(sa + (<usize>i << 2)), swj, bj, cols);
    }
  }
}

/** Writes the first `cols` (1…8) of ((f32(acc) · sa) · sw) + bias for one row of a tile. */
// @ts-ignore: decorator
@inline function dequant8(c: usize, acc0: v128, acc1: v128, sa: f32, sw: usize, bias: usize, cols: i32): void {
  const s = f32x4.splat(sa);
  const n0 = min(cols, 4);
  storeLanes(c, f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(acc0), s), loadLanes(sw, n0)), loadLanes(bias, n0)), n0);
  if (cols > 4) {
    const n1 = cols - 4;
    storeLanes(c + 16, f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(acc1), s), loadLanes(sw + 16, n1)), loadLanes(bias + 16, n1)), n1);
  }
}
