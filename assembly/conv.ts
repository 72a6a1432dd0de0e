// Convolution support for NCHW tensors: im2col / col2im, max and average pooling, nearest and
// bilinear upsampling, and the per-channel bias(+activation) epilogue and bias gradient of a conv
// layer. Semantics follow PyTorch (torch.nn.functional, 2.x); every kernel takes `batch` samples
// stored one after another and loops over them itself, so one call covers a whole batch.
//
// Layout: a sample is [C, H, W] row-major. A column matrix (im2col) has one row per (c, ki, kj)
// (C·KH·KW rows) holding, for every output pixel (oy, ox), the input
// x[c, oy·SH − PH + ki·DH, ox·SW − PW + kj·DW] (0 outside the image), OH·OW values per sample.
// Where sample b's row r starts is given by two strides (in elements): col + b·sampleStride +
// r·rowStride. Per sample ([B, CKK, OHW]: rowStride = OHW, sampleStride = CKK·OHW) a conv is
// W·col_b per sample; batched ([CKK, B, OHW]: rowStride = B·OHW, sampleStride = OHW) it is one
// GEMM W[out, CKK]·col [CKK, B·OHW] for the whole batch, whose [out, B, OHW] product
// f32_swap_blocks turns into NCHW.
//
// Where SIMD pays: rows of a stride-1 im2col/col2im are contiguous spans (memory.copy and an
// f32x4 add); the per-channel epilogue and the bias gradient run on f32x4 over H·W. Pooling and
// upsampling gather and scatter with strides, where f32x4 would need shuffles per output; they
// run scalar (they cost a few operations per value against a GEMM's hundreds).
// Float summation orders are fixed (documented per kernel), so the strict build gives the same
// bits on every engine.

import { f32_act_forward } from './activations';

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 {
  // b > 0; exact for negative a too
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/** dst[i] += src[i] for n contiguous values (f32x4 body, scalar tail: the same add per value). */
// @ts-ignore: decorator
@inline function addSpan(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}


// ---- Preconditions, checked by the debug build only ----
// `if (!ASC_NO_ASSERT)` drops the whole check at compile time in the release builds: with noAssert
// an assert's condition would still be evaluated, and an i32 division may trap, so the optimizer
// keeps it (the release .wasm must stay byte for byte what it was).

/** One axis of a window: oh is the output size the kernel, stride, padding and dilation give. */
@inline function checkAxis(h: i32, k: i32, s: i32, p: i32, d: i32, oh: i32): void {
  if (ASC_NO_ASSERT) return;
  assert(s > 0 && d > 0 && k > 0 && p >= 0, 'window: kernel, stride and dilation must be positive, padding non-negative');
  assert(oh == (h + 2 * p - d * (k - 1) - 1) / s + 1, 'window: output size does not match input, kernel, stride, padding and dilation');
}

/**
 * im2col for `batch` NCHW samples x [C, H, W] into the column matrix col (layout above: sample
 * b's row r at col + b·sampleStride + r·rowStride, elements), with stride (sh, sw), zero padding
 * (ph, pw) and dilation (dh, dw). OH and OW are given (normally (H + 2PH − DH(KH−1) − 1)/SH + 1,
 * floored); any pixel outside the input reads 0. Every value of every row is written.
 */
export function f32_im2col(
  x: usize, col: usize, batch: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, rowStride: i32, sampleStride: i32,
): void {
  checkAxis(h, kh, sh, ph, dh, oh);
  checkAxis(w, kw, sw, pw, dw, ow);
  const planeBytes = <usize>(h * w) << 2;
  const rowBytes = <usize>ow << 2;
  for (let b = 0; b < batch; b++) {
    let r = 0;
    for (let ci = 0; ci < c; ci++) {
      const plane = x + (<usize>(b * c + ci)) * planeBytes;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          let dst = col + ((<usize>b * <usize>sampleStride + <usize>r * <usize>rowStride) << 2);
          r++;
          // output columns ox whose input column ix = ox·sw − pw + kj·dw lies in [0, w)
          const off = kj * dw - pw;
          const ox0 = min(max(ceilDiv(-off, sw), 0), ow);
          const ox1 = max(min(floorDiv(w - 1 - off, sw) + 1, ow), ox0);
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - ph + ki * dh;
            if (iy < 0 || iy >= h || ox0 == ox1) {
              memory.fill(dst, 0, rowBytes);
            } else {
              if (ox0 > 0) memory.fill(dst, 0, <usize>ox0 << 2);
              const src = plane + (<usize>(iy * w + ox0 * sw + off) << 2);
              if (sw == 1) {
                memory.copy(dst + (<usize>ox0 << 2), src, <usize>(ox1 - ox0) << 2);
              } else {
                let s = src;
                const step = <usize>sw << 2;
                for (let ox = ox0; ox < ox1; ox++) {
                  store<f32>(dst + (<usize>ox << 2), load<f32>(s));
                  s += step;
                }
              }
              if (ox1 < ow) memory.fill(dst + (<usize>ox1 << 2), 0, <usize>(ow - ox1) << 2);
            }
            dst += rowBytes;
          }
        }
      }
    }
  }
}

/**
 * col2im, the adjoint of f32_im2col: x = (accumulate ? x : 0) + the scatter-add of col's values
 * back to the pixels they were read from (values that came from padding are dropped). Same
 * arguments as f32_im2col. Summation order per pixel: rows of col in increasing order
 * (c, ki, kj), then oy, then ox.
 */
export function f32_col2im(
  col: usize, x: usize, batch: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32, rowStride: i32, sampleStride: i32,
  accumulate: i32,
): void {
  checkAxis(h, kh, sh, ph, dh, oh);
  checkAxis(w, kw, sw, pw, dw, ow);
  const planeBytes = <usize>(h * w) << 2;
  const rowBytes = <usize>ow << 2;
  if (!accumulate) memory.fill(x, 0, <usize>(batch * c) * planeBytes);
  for (let b = 0; b < batch; b++) {
    let r = 0;
    for (let ci = 0; ci < c; ci++) {
      const plane = x + (<usize>(b * c + ci)) * planeBytes;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          let src = col + ((<usize>b * <usize>sampleStride + <usize>r * <usize>rowStride) << 2);
          r++;
          const off = kj * dw - pw;
          const ox0 = min(max(ceilDiv(-off, sw), 0), ow);
          const ox1 = max(min(floorDiv(w - 1 - off, sw) + 1, ow), ox0);
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - ph + ki * dh;
            if (iy >= 0 && iy < h && ox0 < ox1) {
              const dst = plane + (<usize>(iy * w + ox0 * sw + off) << 2);
              if (sw == 1) {
                addSpan(dst, src + (<usize>ox0 << 2), ox1 - ox0);
              } else {
                let d = dst;
                const step = <usize>sw << 2;
                for (let ox = ox0; ox < ox1; ox++) {
                  store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ox << 2)));
                  d += step;
                }
              }
            }
            src += rowBytes;
          }
        }
      }
    }
  }
}

/**
 * Max pooling over `planes` = batch·C planes [H, W] → y [OH, OW] per plane, window KH×KW, stride
 * (sh, sw), padding (ph, pw) that never wins (PyTorch pads with −∞). idx (i32) receives, for
 * each output, the index iy·W + ix of its maximum within the plane, the first one in row-major
 * window order on ties; a NaN wins and propagates, as in PyTorch.
 */
export function f32_maxpool2d(
  x: usize, y: usize, idx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32,
): void {
  checkAxis(h, kh, sh, ph, 1, oh);
  checkAxis(w, kw, sw, pw, 1, ow);
  const planeBytes = <usize>(h * w) << 2;
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>p * planeBytes;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - ph, 0);
      const y1 = min(oy * sh - ph + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(ox * sw - pw, 0);
        const x1 = min(ox * sw - pw + kw, w);
        let best: f32 = -Infinity;
        let at: i32 = y0 * w + x0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = load<f32>(plane + (<usize>(iy * w + ix) << 2));
            if (v > best || v != v) {
              best = v;
              at = iy * w + ix;
              if (v != v) break;
            }
          }
          if (best != best) break;
        }
        store<f32>(y + o, best);
        store<i32>(idx + o, at);
        o += 4;
      }
    }
  }
}

/** The gradient of f32_maxpool2d: dx = 0, then dx[plane, idx] += dy for every output. */
export function f32_maxpool2d_backward(dy: usize, idx: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  const planeBytes = <usize>(h * w) << 2;
  memory.fill(dx, 0, <usize>planes * planeBytes);
  const n = oh * ow;
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>p * planeBytes;
    for (let i = 0; i < n; i++) {
      const d = plane + (<usize>load<i32>(idx + o) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(dy + o));
      o += 4;
    }
  }
}

/**
 * Average pooling, PyTorch's defaults (count_include_pad = true, no ceil mode): each output is the
 * window's sum (padding counts as 0) divided by KH·KW. Sum in row-major window order.
 */
export function f32_avgpool2d(
  x: usize, y: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32,
): void {
  checkAxis(h, kh, sh, ph, 1, oh);
  checkAxis(w, kw, sw, pw, 1, ow);
  const planeBytes = <usize>(h * w) << 2;
  const inv: f32 = <f32>1.0 / <f32>(kh * kw);
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = x + <usize>p * planeBytes;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - ph, 0);
      const y1 = min(oy * sh - ph + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(ox * sw - pw, 0);
        const x1 = min(ox * sw - pw + kw, w);
        let s: f32 = 0;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) s += load<f32>(plane + (<usize>(iy * w + ix) << 2));
        }
        store<f32>(y + o, s * inv);
        o += 4;
      }
    }
  }
}

/** The gradient of f32_avgpool2d: dx = 0, then every output's dy/(KH·KW) is added to its window. */
export function f32_avgpool2d_backward(
  dy: usize, dx: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, oh: i32, ow: i32,
): void {
  checkAxis(h, kh, sh, ph, 1, oh);
  checkAxis(w, kw, sw, pw, 1, ow);
  const planeBytes = <usize>(h * w) << 2;
  memory.fill(dx, 0, <usize>planes * planeBytes);
  const inv: f32 = <f32>1.0 / <f32>(kh * kw);
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = dx + <usize>p * planeBytes;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(oy * sh - ph, 0);
      const y1 = min(oy * sh - ph + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(ox * sw - pw, 0);
        const x1 = min(ox * sw - pw + kw, w);
        const g = load<f32>(dy + o) * inv;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const d = plane + (<usize>(iy * w + ix) << 2);
            store<f32>(d, load<f32>(d) + g);
          }
        }
        o += 4;
      }
    }
  }
}

/**
 * Nearest-neighbour upsampling by integer factors: y[oy, ox] = x[oy / fh, ox / fw] over `planes`
 * planes [H, W] → [H·fh, W·fw] (PyTorch's 'nearest' for an integer scale_factor).
 */
export function f32_upsample_nearest2d(x: usize, y: usize, planes: i32, h: i32, w: i32, fh: i32, fw: i32): void {
  const ow = w * fw;
  const outRow = <usize>ow << 2;
  let src = x;
  let dst = y;
  for (let p = 0; p < planes; p++) {
    for (let iy = 0; iy < h; iy++) {
      const row = dst;
      let d = dst;
      for (let ix = 0; ix < w; ix++) {
        const v = load<f32>(src);
        for (let r = 0; r < fw; r++) {
          store<f32>(d, v);
          d += 4;
        }
        src += 4;
      }
      dst += outRow;
      for (let r = 1; r < fh; r++) {
        memory.copy(dst, row, outRow);
        dst += outRow;
      }
    }
  }
}

/**
 * The gradient of f32_upsample_nearest2d: dx[iy, ix] = Σ of dy over its fh×fw block, summed row
 * by row of the block, left to right.
 */
export function f32_upsample_nearest2d_backward(dy: usize, dx: usize, planes: i32, h: i32, w: i32, fh: i32, fw: i32): void {
  const ow = w * fw;
  let d = dx;
  for (let p = 0; p < planes; p++) {
    const plane = dy + (<usize>(p * h * fh * ow) << 2);
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        let s: f32 = 0;
        for (let r = 0; r < fh; r++) {
          let q = plane + (<usize>((iy * fh + r) * ow + ix * fw) << 2);
          for (let c = 0; c < fw; c++) {
            s += load<f32>(q);
            q += 4;
          }
        }
        store<f32>(d, s);
        d += 4;
      }
    }
  }
}

// Bilinear source coordinate, PyTorch's align_corners = false with a given scale factor:
// src = rscale·(dst + 0.5) − 0.5, clamped at 0 (rscale = 1/scale_factor, computed in f32 as
// PyTorch's area_pixel_compute_scale does); i0 = ⌊src⌋, i1 = i0 + 1 unless i0 is the last
// index; the weight of i1 is src − i0.
// @ts-ignore: decorator
@inline function srcCoord(dst: i32, rscale: f32): f32 {
  return max<f32>(rscale * (<f32>dst + <f32>0.5) - <f32>0.5, 0);
}

/**
 * Bilinear upsampling (align_corners = false) of `planes` planes [H, W] → [OH, OW]; rh, rw are
 * the reciprocal scale factors (H/OH for integer factors). For each output:
 * y = h0·(w0·x[i0, j0] + w1·x[i0, j1]) + h1·(w0·x[i1, j0] + w1·x[i1, j1]), h0 = 1 − h1, w0 = 1 − w1.
 */
export function f32_upsample_bilinear2d(x: usize, y: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, rh: f32, rw: f32): void {
  let d = y;
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const sy = srcCoord(oy, rh);
      const i0 = <i32>sy;
      const i1 = i0 + (i0 < h - 1 ? 1 : 0);
      const h1 = sy - <f32>i0;
      const h0 = <f32>1 - h1;
      const r0 = plane + (<usize>(i0 * w) << 2);
      const r1 = plane + (<usize>(i1 * w) << 2);
      for (let ox = 0; ox < ow; ox++) {
        const sx = srcCoord(ox, rw);
        const j0 = <i32>sx;
        const j1 = j0 + (j0 < w - 1 ? 1 : 0);
        const w1 = sx - <f32>j0;
        const w0 = <f32>1 - w1;
        const a = w0 * load<f32>(r0 + (<usize>j0 << 2)) + w1 * load<f32>(r0 + (<usize>j1 << 2));
        const b = w0 * load<f32>(r1 + (<usize>j0 << 2)) + w1 * load<f32>(r1 + (<usize>j1 << 2));
        store<f32>(d, h0 * a + h1 * b);
        d += 4;
      }
    }
  }
}

/** The gradient of f32_upsample_bilinear2d: dx = 0, then each dy is spread over its four sources
 *  with the forward's weights (h0·w0, h0·w1, h1·w0, h1·w1), outputs in row-major order. */
export function f32_upsample_bilinear2d_backward(dy: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, rh: f32, rw: f32): void {
  memory.fill(dx, 0, <usize>(planes * h * w) << 2);
  let s = dy;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const sy = srcCoord(oy, rh);
      const i0 = <i32>sy;
      const i1 = i0 + (i0 < h - 1 ? 1 : 0);
      const h1 = sy - <f32>i0;
      const h0 = <f32>1 - h1;
      const r0 = plane + (<usize>(i0 * w) << 2);
      const r1 = plane + (<usize>(i1 * w) << 2);
      for (let ox = 0; ox < ow; ox++) {
        const sx = srcCoord(ox, rw);
        const j0 = <i32>sx;
        const j1 = j0 + (j0 < w - 1 ? 1 : 0);
        const w1 = sx - <f32>j0;
        const w0 = <f32>1 - w1;
        const g = load<f32>(s);
        const g0 = h0 * g;
        const g1 = h1 * g;
        store<f32>(r0 + (<usize>j0 << 2), load<f32>(r0 + (<usize>j0 << 2)) + w0 * g0);
        store<f32>(r0 + (<usize>j1 << 2), load<f32>(r0 + (<usize>j1 << 2)) + w1 * g0);
        store<f32>(r1 + (<usize>j0 << 2), load<f32>(r1 + (<usize>j0 << 2)) + w0 * g1);
        store<f32>(r1 + (<usize>j1 << 2), load<f32>(r1 + (<usize>j1 << 2)) + w1 * g1);
        s += 4;
      }
    }
  }
}

/**
 * The epilogue of a conv layer over `batch` samples [C, HW]: z[b, c, p] += bias[c] in place (z is
 * kept for the backward pass), then y = f(z) (y may be z). The bias is per ROW of a sample's
 * [C, HW] matrix, which f32_bias_act (per column) cannot express without a transpose; each
 * plane gets its bias on f32x4 and then f32_act_forward while it is still in L1. Bit-identical
 * to the bias add followed by f32_act_forward on the whole tensor (activations are elementwise
 * and position-independent).
 */
export function f32_bias_channels_act(act: i32, alpha: f32, z: usize, bias: usize, y: usize, batch: i32, c: i32, hw: i32): void {
  const planeBytes = <usize>hw << 2;
  for (let b = 0; b < batch; b++) {
    for (let ci = 0; ci < c; ci++) {
      const off = (<usize>(b * c + ci)) * planeBytes;
      const zp = z + off;
      const bs = load<f32>(bias + (<usize>ci << 2));
      const bv = f32x4.splat(bs);
      let i = 0;
      for (; i + 4 <= hw; i += 4) {
        const o = <usize>i << 2;
        v128.store(zp + o, f32x4.add(v128.load(zp + o), bv));
      }
      for (; i < hw; i++) {
        const o = <usize>i << 2;
        store<f32>(zp + o, load<f32>(zp + o) + bs);
      }
      f32_act_forward(act, alpha, zp, y + off, hw);
    }
  }
}

/**
 * out[c] = (accumulate ? out[c] : 0) + Σ_b Σ_p x[b, c, p] over `batch` samples [C, HW]: the bias
 * gradient of a conv layer. Each plane is summed in four f32x4 lanes (lane l takes p ≡ l mod 4
 * below HW rounded down to 4), the lanes combined as (l0 + l1) + (l2 + l3), the tail added in
 * order; plane sums are added in batch order starting from 0, and out[c] last.
 */
export function f32_channel_sum(x: usize, out: usize, batch: i32, c: i32, hw: i32, accumulate: i32): void {
  const planeBytes = <usize>hw << 2;
  for (let ci = 0; ci < c; ci++) {
    let total: f32 = 0;
    for (let b = 0; b < batch; b++) {
      const p = x + (<usize>(b * c + ci)) * planeBytes;
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= hw; i += 4) acc = f32x4.add(acc, v128.load(p + (<usize>i << 2)));
      let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      for (; i < hw; i++) s += load<f32>(p + (<usize>i << 2));
      total += s;
    }
    const q = out + (<usize>ci << 2);
    store<f32>(q, accumulate ? load<f32>(q) + total : total);
  }
}

/**
 * dst[j, i, :] = src[i, j, :] for i < d0, j < d1, blocks of `inner` contiguous values: swaps the
 * two outer axes of a [d0, d1, inner] tensor ([out, B, OH·OW] GEMM products to NCHW and back).
 * dst must not overlap src.
 */
export function f32_swap_blocks(src: usize, dst: usize, d0: i32, d1: i32, inner: i32): void {
  if (!ASC_NO_ASSERT) {
    const bytes = <usize>d0 * <usize>d1 * <usize>inner << 2;
    assert(src + bytes <= dst || dst + bytes <= src, 'f32_swap_blocks: src and dst overlap');
  }
  if (inner == 1) {
    transpose(src, dst, d0, d1);
    return;
  }
  const blockBytes = <usize>inner << 2;
  let s = src;
  for (let i = 0; i < d0; i++) {
    let d = dst + <usize>i * blockBytes;
    for (let j = 0; j < d1; j++) {
      memory.copy(d, s, blockBytes);
      s += blockBytes;
      d += <usize>d0 * blockBytes;
    }
  }
}

/**
 * dst [d1, d0] = src [d0, d1]ᵀ (swap_blocks with inner = 1, which the int8 convolutions run on
 * whole batches: a memory.copy per value cost ~10 ns there). 4×4 tiles move through registers
 * with shuffles (values are moved, never computed: the bits are src's); the edges go one value
 * at a time.
 */
function transpose(src: usize, dst: usize, d0: i32, d1: i32): void {
  const rs = <usize>d1 << 2; // a source row, bytes
  const rd = <usize>d0 << 2; // a destination row, bytes
  const i4 = d0 & ~3;
  const j4 = d1 & ~3;
  for (let i = 0; i < i4; i += 4) {
    const s0 = src + <usize>i * rs;
    const d = dst + (<usize>i << 2);
    for (let j = 0; j < j4; j += 4) {
      const o = <usize>j << 2;
      const x0 = v128.load(s0 + o), x1 = v128.load(s0 + rs + o);
      const x2 = v128.load(s0 + 2 * rs + o), x3 = v128.load(s0 + 3 * rs + o);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const dj = d + <usize>j * rd;
      v128.store(dj, v128.shuffle<f64>(t0, t2, 0, 2));
      v128.store(dj + rd, v128.shuffle<f64>(t0, t2, 1, 3));
      v128.store(dj + 2 * rd, v128.shuffle<f64>(t1, t3, 0, 2));
      v128.store(dj + 3 * rd, v128.shuffle<f64>(t1, t3, 1, 3));
    }
    for (let j = j4; j < d1; j++) {
      for (let a = 0; a < 4; a++) store<u32>(d + <usize>j * rd + (<usize>a << 2), load<u32>(s0 + <usize>a * rs + (<usize>j << 2)));
    }
  }
  for (let i = i4; i < d0; i++) {
    for (let j = 0; j < d1; j++) store<u32>(dst + <usize>j * rd + (<usize>i << 2), load<u32>(src + <usize>i * rs + (<usize>j << 2)));
  }
}
