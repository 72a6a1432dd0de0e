// int8 convolutions (model.quantize() on conv2d and convTranspose2d layers): bit for bit against
// a scalar JS model of the int8 forward (patches quantized one scale each, exact sums, the
// dequantizing epilogue, col2im's summation order), on MNIST against the f32 model (held-out
// MSE), the file (loadModel bitwise, FormatError for a bad window), and what is not covered.
import { describe, expect, test } from 'vitest';
import {
  Autoencoder, ConvAutoencoder, FormatError, InputError, init, liveTensors, loadModel, readSafetensors, toOnnx,
  writeSafetensors, type LayerSpec, type QuantizedModel,
} from '../src/index.js';
import { quantizeWeights } from '../src/models/quantized.js';
import { createCore, type SimdMode } from '../src/runtime/load.js';
import { Arena } from '../src/runtime/memory.js';
import { ACTIVATIONS, Kernels } from '../src/runtime/kernels.js';
import { refGemm, refQuantize } from './helpers/int8.js';
import { randomArray } from './helpers/reference.js';

await init();

const f = Math.fround;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const relu = (v: Float32Array) => v.map((x) => Math.max(x, 0));

interface Window { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number }

/** Per-channel int8 of a ConvTranspose2d weight [in, out, kk]: scale max|W[:, o, :]|/127 (1 for 0). */
function quantizeTransposed(w: Float32Array, cin: number, out: number, kk: number): { weight: Int8Array; weightScale: Float32Array } {
  const weight = new Int8Array(w.length);
  const weightScale = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let mx = 0;
    for (let ci = 0; ci < cin; ci++) for (let r = 0; r < kk; r++) mx = Math.max(mx, Math.abs(w[(ci * out + o) * kk + r]));
    const s = f(mx / 127) || 1;
    weightScale[o] = s;
    for (let ci = 0; ci < cin; ci++) {
      for (let r = 0; r < kk; r++) {
        const v = f(w[(ci * out + o) * kk + r] / s);
        const fl = Math.floor(v);
        const d = v - fl;
        weight[(ci * out + o) * kk + r] = Math.min(127, Math.max(-127, d < 0.5 ? fl : d > 0.5 ? fl + 1 : fl % 2 === 0 ? fl : fl + 1));
      }
    }
  }
  return { weight, weightScale };
}

/** int8 conv2d of rows samples [c, h, w] → [out, oh, ow]: one patch per output pixel, quantized alone. */
function refConv2d(x: Float32Array, rows: number, [c, h, w]: number[], out: number, k: Window, wq: Int8Array, sw: Float32Array, b: Float32Array, fixed: number) {
  const oh = Math.floor((h + 2 * k.ph - k.dh * (k.kh - 1) - 1) / k.sh) + 1;
  const ow = Math.floor((w + 2 * k.pw - k.dw * (k.kw - 1) - 1) / k.sw) + 1;
  const ckk = c * k.kh * k.kw;
  const y = new Float32Array(rows * out * oh * ow);
  for (let n = 0; n < rows; n++) {
    const patches = new Float32Array(oh * ow * ckk);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let r = 0;
        for (let ci = 0; ci < c; ci++) {
          for (let ki = 0; ki < k.kh; ki++) {
            for (let kj = 0; kj < k.kw; kj++, r++) {
              const iy = oy * k.sh - k.ph + ki * k.dh;
              const ix = ox * k.sw - k.pw + kj * k.dw;
              patches[(oy * ow + ox) * ckk + r] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((n * c + ci) * h + iy) * w + ix] : 0;
            }
          }
        }
      }
    }
    const { q, s } = refQuantize(patches, oh * ow, ckk, fixed);
    const z = refGemm(q, s, wq, sw, b, oh * ow, out, ckk);
    for (let p = 0; p < oh * ow; p++) for (let o = 0; o < out; o++) y[(n * out + o) * oh * ow + p] = z[p * out + o];
  }
  return { y, shape: [out, oh, ow] };
}

/** int8 convTranspose2d: each input pixel's channels quantized alone, its products scattered in
 *  col2im's order (channel, ki, kj, then input row and column), then the bias. */
function refConvTranspose(x: Float32Array, rows: number, [cin, ih, iw]: number[], out: number, k: Window, op: [number, number], wq: Int8Array, sw: Float32Array, b: Float32Array, fixed: number) {
  const oh = (ih - 1) * k.sh - 2 * k.ph + k.dh * (k.kh - 1) + op[0] + 1;
  const ow = (iw - 1) * k.sw - 2 * k.pw + k.dw * (k.kw - 1) + op[1] + 1;
  const kk = k.kh * k.kw;
  const y = new Float32Array(rows * out * oh * ow);
  for (let n = 0; n < rows; n++) {
    const px = new Float32Array(ih * iw * cin);
    for (let ci = 0; ci < cin; ci++) for (let p = 0; p < ih * iw; p++) px[p * cin + ci] = x[(n * cin + ci) * ih * iw + p];
    const { q, s } = refQuantize(px, ih * iw, cin, fixed);
    for (let o = 0; o < out; o++) {
      const acc = new Float32Array(oh * ow);
      for (let ki = 0; ki < k.kh; ki++) {
        for (let kj = 0; kj < k.kw; kj++) {
          for (let iy = 0; iy < ih; iy++) {
            for (let ix = 0; ix < iw; ix++) {
              const yy = iy * k.sh - k.ph + ki * k.dh;
              const xx = ix * k.sw - k.pw + kj * k.dw;
              if (yy < 0 || yy >= oh || xx < 0 || xx >= ow) continue;
              const p = iy * iw + ix;
              let a = 0;
              for (let ci = 0; ci < cin; ci++) a += q[p * cin + ci] * wq[(ci * out + o) * kk + ki * k.kw + kj];
              const v = f(f(f(f(a) * s[p]) * sw[o]) + 0);
              acc[yy * ow + xx] = f(acc[yy * ow + xx] + v);
            }
          }
        }
      }
      for (let p = 0; p < oh * ow; p++) y[(n * out + o) * oh * ow + p] = f(acc[p] + b[o]);
    }
  }
  return { y, shape: [out, oh, ow] };
}

const layers: { encoder: LayerSpec[]; decoder: LayerSpec[] } = {
  encoder: [
    { type: 'conv2d', filters: 3, kernelSize: 3, stride: 2, padding: 1, activation: 'relu' }, // [3, 4, 3]
    { type: 'conv2d', filters: 4, kernelSize: [3, 2], padding: [1, 0], dilation: [1, 2], activation: 'linear' }, // [4, 4, 1]
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'linear' },
  ],
  decoder: [
    { type: 'dense', units: 36, activation: 'relu' },
    { type: 'reshape', shape: [3, 4, 3] },
    { type: 'convTranspose2d', filters: 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: [0, 1], activation: 'relu' }, // [4, 7, 6]
    { type: 'convTranspose2d', filters: 2, kernelSize: [1, 2], padding: [0, 1], dilation: [1, 2], activation: 'linear' }, // [2, 7, 6]
  ],
};

describe('int8 convolutions, bit for bit', () => {
  test('conv2d (stride, padding, dilation), flatten, dense, reshape, convTranspose2d (output padding, dilation): the scalar JS model', () => {
    const start = liveTensors();
    const ae = new Autoencoder({ inputShape: [2, 7, 6], layers, seed: 5 });
    const rows = 5;
    const x = randomArray(rows * 84, 3, -1, 2);
    const w = ae.getWeights();
    for (const activations of ['dynamic', 'static'] as const) {
      const q = ae.quantize({ activations, calibration: x });
      const file = readSafetensors(q.save());
      const fixed = (name: string) => (activations === 'static' ? new Float32Array(file.tensors.get(`${name}.input_scale`)!.bytes.slice().buffer)[0] : 0);
      const stored = (name: string) => new Int8Array(file.tensors.get(`${name}.weight`)!.bytes.slice().buffer);
      // encoder
      const c0 = quantizeWeights(w['encoder.0.weight'], 3, 2 * 9);
      expect(Array.from(stored('encoder.0'))).toEqual(Array.from(c0.weight));
      const h0 = refConv2d(x, rows, [2, 7, 6], 3, { kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 }, c0.weight, c0.weightScale, w['encoder.0.bias'], fixed('encoder.0'));
      expect(h0.shape).toEqual([3, 4, 3]);
      const h0r = relu(h0.y);
      const c2 = quantizeWeights(w['encoder.2.weight'], 4, 3 * 6);
      const h1 = refConv2d(h0r, rows, [3, 4, 3], 4, { kh: 3, kw: 2, sh: 1, sw: 1, ph: 1, pw: 0, dh: 1, dw: 2 }, c2.weight, c2.weightScale, w['encoder.2.bias'], fixed('encoder.2'));
      expect(h1.shape).toEqual([4, 4, 1]);
      const d = quantizeWeights(w['encoder.4.weight'], 5, 16);
      const r = refQuantize(h1.y, rows, 16, fixed('encoder.4'));
      const code = refGemm(r.q, r.s, d.weight, d.weightScale, w['encoder.4.bias'], rows, 5, 16);
      expect(bits(q.encode(x)), activations).toEqual(bits(code));
      // decoder
      const d0 = quantizeWeights(w['decoder.0.weight'], 36, 5);
      const r0 = refQuantize(code, rows, 5, fixed('decoder.0'));
      const g0 = relu(refGemm(r0.q, r0.s, d0.weight, d0.weightScale, w['decoder.0.bias'], rows, 36, 5));
      const t3 = quantizeTransposed(w['decoder.3.weight'], 3, 4, 9);
      expect(Array.from(stored('decoder.3'))).toEqual(Array.from(t3.weight));
      const g1 = refConvTranspose(g0, rows, [3, 4, 3], 4, { kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1 }, [0, 1], t3.weight, t3.weightScale, w['decoder.3.bias'], fixed('decoder.3'));
      expect(g1.shape).toEqual([4, 7, 6]);
      const t5 = quantizeTransposed(w['decoder.5.weight'], 4, 2, 2);
      const g2 = refConvTranspose(relu(g1.y), rows, [4, 7, 6], 2, { kh: 1, kw: 2, sh: 1, sw: 1, ph: 0, pw: 1, dh: 1, dw: 2 }, [0, 0], t5.weight, t5.weightScale, w['decoder.5.bias'], fixed('decoder.5'));
      expect(g2.shape).toEqual([2, 7, 6]);
      expect(bits(q.reconstruct(x)), activations).toEqual(bits(g2.y));
      // a row's result does not depend on its batch; the file gives the same bits back
      expect(bits(q.reconstruct(x.subarray(2 * 84, 3 * 84)))).toEqual(bits(g2.y.subarray(2 * 84, 3 * 84)));
      const back = loadModel(q.save()) as QuantizedModel;
      expect(bits(back.reconstruct(x))).toEqual(bits(g2.y));
      for (const m of [q, back]) m.dispose();
    }
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });
});

describe('int8 convolutions: files, ONNX, the two builds', () => {
  test('the file stores PyTorch layouts (Conv2d [out, in, kh, kw], ConvTranspose2d [in, out, kh, kw]); a bad window or weight shape is a FormatError', () => {
    const conv = new ConvAutoencoder({ inputShape: [1, 12, 12], filters: [4, 6], latentSize: 8, seed: 1 });
    const q = conv.quantize();
    const bytes = q.save();
    const file = readSafetensors(bytes);
    expect(file.tensors.get('encoder.0.weight')).toMatchObject({ dtype: 'I8', shape: [4, 1, 3, 3] });
    expect(file.tensors.get('encoder.0.weight_scale')).toMatchObject({ dtype: 'F32', shape: [4] });
    expect(file.tensors.get('decoder.3.weight')).toMatchObject({ dtype: 'I8', shape: [6, 4, 3, 3] });
    expect(file.tensors.get('decoder.3.weight_scale')).toMatchObject({ dtype: 'F32', shape: [4] });
    expect(file.tensors.get('decoder.3.bias')).toMatchObject({ dtype: 'F32', shape: [4] });
    // the f32 model's ConvTranspose2d weight, per output channel (axis 1)
    const tq = quantizeTransposed(conv.getWeights()['decoder.3.weight'], 6, 4, 9);
    expect(Array.from(new Int8Array(file.tensors.get('decoder.3.weight')!.bytes.slice().buffer))).toEqual(Array.from(tq.weight));
    expect(Array.from(new Float32Array(file.tensors.get('decoder.3.weight_scale')!.bytes.slice().buffer))).toEqual(Array.from(tq.weightScale));
    q.dispose();
    conv.dispose();

    const start = liveTensors();
    const config = JSON.parse(file.metadata!.config);
    const withConfig = (edit: (c: typeof config) => void) => {
      const c = structuredClone(config);
      edit(c);
      const tensors = [...file.tensors].map(([name, e]) => ({ name, shape: e.shape, data: e.dtype === 'I8' ? new Int8Array(e.bytes.slice().buffer) : new Float32Array(e.bytes.slice().buffer) }));
      return writeSafetensors(tensors, { ...file.metadata!, config: JSON.stringify(c) });
    };
    const window = /encoder\[0\]\.geometry must be a window/;
    const cases: [string, Uint8Array, RegExp][] = [
      ['stride that does not give oh', withConfig((c) => { c.encoder[0].geometry.sh = 3; }), window],
      ['negative padding', withConfig((c) => { c.encoder[0].geometry.ph = -1; }), window],
      ['fractional kernel', withConfig((c) => { c.encoder[0].geometry.kw = 2.5; }), window],
      ['missing geometry', withConfig((c) => { delete c.encoder[0].geometry; }), window],
      ['channels that do not match inSize', withConfig((c) => { c.encoder[0].geometry.c = 2; }), window],
      ['transposed conv whose window implies an output padding of 3 with stride 2', withConfig((c) => { c.decoder[1].geometry.ph = 2; }), /decoder\[1\]\.geometry/],
      ['transposed conv whose window implies a negative output padding', withConfig((c) => { c.decoder[1].geometry.ph = 0; }), /decoder\[1\]\.geometry/],
      ['unknown type', withConfig((c) => { c.encoder[0].type = 'conv3d'; }), /encoder\[0\]\.type "conv3d" is unknown/],
      ['kernel size that does not match the weight', withConfig((c) => {
        const g = c.encoder[0].geometry;
        Object.assign(g, { kh: 1, kw: 1, ph: 0, pw: 0, oh: Math.floor((g.h - 1) / g.sh) + 1, ow: Math.floor((g.w - 1) / g.sw) + 1 });
      }), /encoder\.0\.weight' has shape \[4, 1, 3, 3\]; the model needs \[4, 1, 1, 1\]/],
    ];
    for (const [what, b, msg] of cases) {
      expect(() => loadModel(b), what).toThrow(FormatError);
      expect(() => loadModel(b), what).toThrow(msg);
    }
    expect(liveTensors()).toBe(start);
  });

  test('toOnnx: int8 convolutions are refused with an InputError naming the layer', () => {
    const conv = new ConvAutoencoder({ inputShape: [1, 8, 8], filters: [2], latentSize: 4, seed: 2 });
    const q = conv.quantize();
    expect(() => toOnnx(q)).toThrow(InputError);
    expect(() => toOnnx(q)).toThrow(/layer encoder\.0 is a conv2d, and int8 convolutions have no ONNX export yet/);
    q.dispose();
    conv.dispose();
  });

  test('the strict and relaxed builds run the conv path with the same bits (im2col, swaps, col2im, bias + ReLU around the int8 GEMM)', async () => {
    const g = { c: 3, h: 9, w: 7, kh: 3, kw: 2, sh: 2, sw: 1, ph: 1, pw: 1, dh: 1, dw: 2, oh: 5, ow: 6 };
    const rows = 2;
    const x = randomArray(rows * 3 * 9 * 7, 8, -1, 1);
    const bias = randomArray(3, 9, -1, 1);
    const out: number[][] = [];
    for (const simd of ['strict', 'relaxed'] as SimdMode[]) {
      const k = new Kernels(new Arena(await createCore({ simd })));
      const a = k.arena;
      const cols = 3 * 3 * 2 * 5 * 6 * rows;
      const [xt, col, colT, img] = [a.alloc(x.length), a.alloc(cols), a.alloc(cols), a.alloc(x.length)];
      a.write(xt, x);
      k.im2col(xt, col, rows, g, true);
      k.swapBlocks(col, colT, 18, rows * 30, 1);
      k.swapBlocks(colT, col, rows * 30, 18, 1);
      k.col2im(col, img, rows, g, true);
      k.biasChannelsAct(ACTIVATIONS.relu, 0, img, a.view(xt, 0, [3]), img, rows, 3, 63);
      a.write(a.view(xt, 0, [3]), bias);
      k.biasChannelsAct(ACTIVATIONS.relu, 0, img, a.view(xt, 0, [3]), img, rows, 3, 63);
      out.push(bits(a.read(img)));
    }
    expect(out[1]).toEqual(out[0]);
    expect(out[0].some((v) => v !== 0)).toBe(true);
  });
});
