// Conv layers (src/nn/conv.ts): forward against a float64 JS forward written from PyTorch's
// definitions (direct loops, no im2col), and backward against central finite differences of that
// forward, for every layer kind and a whole conv encoder/decoder; plus construction errors,
// PyTorch parameter names and init fans.
import { describe, expect, test } from 'vitest';
import { init, InputError, ShapeError } from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { DEFAULT_ALPHA, Kernels } from '../src/runtime/kernels.js';
import { Rng } from '../src/runtime/rng.js';
import { Sequential, type LayerSpec } from '../src/nn/layers.js';
import type { Conv2dSpec, ConvTranspose2dSpec } from '../src/nn/specs.js';
import { centralDiff, f64Activation, refLoss } from './helpers/reference-nn.js';
import { expectAllClose, mulberry32, randomArray } from './helpers/reference.js';

await init();

type Shape = readonly number[];
const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);
const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : Array.isArray(v) ? v : [v, v];

/** A float64 forward of one layer: (x for `rows` samples, the layer's parameters) → y. */
type RefFn = (x: Float64Array, rows: number, p: Float64Array[]) => { y: Float64Array; z: Float64Array };

function refConv(spec: Conv2dSpec, inShape: Shape, outShape: Shape): RefFn {
  const [c, h, w] = inShape;
  const [o, oh, ow] = outShape;
  const [kh, kw] = pair(spec.kernelSize, 1);
  const [sh, sw] = pair(spec.stride, 1);
  const [ph, pw] = pair(spec.padding, 0);
  const [dh, dw] = pair(spec.dilation, 1);
  const f = f64Activation[spec.activation ?? 'linear'];
  return (x, rows, [W, B]) => {
    const z = new Float64Array(rows * o * oh * ow);
    for (let b = 0; b < rows; b++)
      for (let oc = 0; oc < o; oc++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            let s = B[oc];
            for (let ic = 0; ic < c; ic++)
              for (let ki = 0; ki < kh; ki++)
                for (let kj = 0; kj < kw; kj++) {
                  const iy = oy * sh - ph + ki * dh;
                  const ix = ox * sw - pw + kj * dw;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  s += W[((oc * c + ic) * kh + ki) * kw + kj] * x[((b * c + ic) * h + iy) * w + ix];
                }
            z[((b * o + oc) * oh + oy) * ow + ox] = s;
          }
    return { z, y: z.map((v) => f(v, spec.alpha ?? DEFAULT_ALPHA[spec.activation ?? 'linear'] ?? 0)) };
  };
}

/** ConvTranspose2d by its definition: every input pixel scatters W[ic, oc]·x into the output. */
function refConvT(spec: ConvTranspose2dSpec, inShape: Shape, outShape: Shape): RefFn {
  const [c, h, w] = inShape;
  const [o, oh, ow] = outShape;
  const [kh, kw] = pair(spec.kernelSize, 1);
  const [sh, sw] = pair(spec.stride, 1);
  const [ph, pw] = pair(spec.padding, 0);
  const [dh, dw] = pair(spec.dilation, 1);
  const f = f64Activation[spec.activation ?? 'linear'];
  return (x, rows, [W, B]) => {
    const z = new Float64Array(rows * o * oh * ow);
    for (let b = 0; b < rows; b++) {
      for (let oc = 0; oc < o; oc++) z.fill(B[oc], (b * o + oc) * oh * ow, (b * o + oc + 1) * oh * ow);
      for (let ic = 0; ic < c; ic++)
        for (let iy = 0; iy < h; iy++)
          for (let ix = 0; ix < w; ix++)
            for (let oc = 0; oc < o; oc++)
              for (let ki = 0; ki < kh; ki++)
                for (let kj = 0; kj < kw; kj++) {
                  const oy = iy * sh - ph + ki * dh;
                  const ox = ix * sw - pw + kj * dw;
                  if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                  z[((b * o + oc) * oh + oy) * ow + ox] += W[((ic * o + oc) * kh + ki) * kw + kj] * x[((b * c + ic) * h + iy) * w + ix];
                }
    }
    return { z, y: z.map((v) => f(v, spec.alpha ?? DEFAULT_ALPHA[spec.activation ?? 'linear'] ?? 0)) };
  };
}

function refPool(kind: 'max' | 'avg', k: [number, number], s: [number, number], p: [number, number], inShape: Shape, outShape: Shape): RefFn {
  const [c, h, w] = inShape;
  const [, oh, ow] = outShape;
  return (x, rows) => {
    const y = new Float64Array(rows * c * oh * ow);
    for (let pl = 0; pl < rows * c; pl++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let best = -Infinity;
          let sum = 0;
          for (let ki = 0; ki < k[0]; ki++)
            for (let kj = 0; kj < k[1]; kj++) {
              const iy = oy * s[0] - p[0] + ki;
              const ix = ox * s[1] - p[1] + kj;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x[(pl * h + iy) * w + ix];
              best = Math.max(best, v);
              sum += v;
            }
          y[(pl * oh + oy) * ow + ox] = kind === 'max' ? best : sum / (k[0] * k[1]);
        }
    return { y, z: y };
  };
}

function refUpsample(mode: 'nearest' | 'bilinear', f: [number, number], inShape: Shape): RefFn {
  const [c, h, w] = inShape;
  const oh = h * f[0];
  const ow = w * f[1];
  const axis = (o: number, n: number, s: number): [number, number][] => {
    if (mode === 'nearest') return [[Math.floor(o / s), 1]];
    const src = Math.max((o + 0.5) / s - 0.5, 0);
    const i0 = Math.floor(src);
    return [[i0, 1 - (src - i0)], [Math.min(i0 + 1, n - 1), src - i0]];
  };
  return (x, rows) => {
    const y = new Float64Array(rows * c * oh * ow);
    for (let pl = 0; pl < rows * c; pl++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (const [iy, a] of axis(oy, h, f[0]))
            for (const [ix, b] of axis(ox, w, f[1])) y[(pl * oh + oy) * ow + ox] += a * b * x[(pl * h + iy) * w + ix];
    return { y, z: y };
  };
}

function refDense(units: number, inSize: number, act: 'linear' | 'relu'): RefFn {
  return (x, rows, [W, B]) => {
    const z = new Float64Array(rows * units);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < units; o++) {
        let s = B[o];
        for (let i = 0; i < inSize; i++) s += W[o * inSize + i] * x[r * inSize + i];
        z[r * units + o] = s;
      }
    return { z, y: z.map((v) => f64Activation[act](v, 0)) };
  };
}

/** The float64 forward of a layer spec as PyTorch defines it. */
function refOf(spec: LayerSpec, inShape: Shape, outShape: Shape): RefFn {
  switch (spec.type) {
    case 'conv2d': return refConv(spec, inShape, outShape);
    case 'convTranspose2d': return refConvT(spec, inShape, outShape);
    case 'maxPool2d':
    case 'avgPool2d': {
      const k = pair(spec.kernelSize, 1);
      return refPool(spec.type === 'maxPool2d' ? 'max' : 'avg', k, spec.stride === undefined ? k : pair(spec.stride, 1), pair(spec.padding, 0), inShape, outShape);
    }
    case 'upsample': return refUpsample(spec.mode ?? 'nearest', pair(spec.scale, 1), inShape);
    case 'flatten':
    case 'reshape': return (x) => ({ y: x, z: x });
    case 'dense': return refDense(spec.units, prod(inShape), spec.activation as 'linear' | 'relu');
    default: throw new Error(`no reference for ${spec.type}`);
  }
}

/** Inputs whose values are distinct and spaced (no pooling ties, no relu kinks under ±eps). */
function spacedInput(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return Float32Array.from(perm, (v) => (2 * v + 1) / n - 1);
}

const CASES: { name: string; inShape: number[]; spec: LayerSpec }[] = [
  { name: 'conv2d k3 s1 p1 relu', inShape: [3, 6, 7], spec: { type: 'conv2d', filters: 4, kernelSize: 3, padding: 1, activation: 'relu' } },
  { name: 'conv2d k2×3 s2 tanh', inShape: [1, 7, 8], spec: { type: 'conv2d', filters: 2, kernelSize: [2, 3], stride: 2, activation: 'tanh' } },
  { name: 'conv2d k3 s3 p2 d2 linear', inShape: [4, 9, 9], spec: { type: 'conv2d', filters: 3, kernelSize: 3, stride: 3, padding: 2, dilation: 2 } },
  { name: 'conv2d k5 s1 p2 sigmoid', inShape: [2, 5, 5], spec: { type: 'conv2d', filters: 3, kernelSize: 5, padding: 2, activation: 'sigmoid' } },
  { name: 'conv2d k1 (pointwise) elu', inShape: [3, 4, 5], spec: { type: 'conv2d', filters: 5, kernelSize: 1, activation: 'elu' } },
  {
    name: 'convTranspose2d k3 s2 p1 op1 relu', inShape: [2, 4, 4],
    spec: { type: 'convTranspose2d', filters: 3, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, activation: 'relu' },
  },
  { name: 'convTranspose2d k2 s2 linear', inShape: [3, 3, 5], spec: { type: 'convTranspose2d', filters: 2, kernelSize: 2, stride: 2 } },
  {
    name: 'convTranspose2d k5 s3 p2 op2 tanh', inShape: [2, 3, 3],
    spec: { type: 'convTranspose2d', filters: 1, kernelSize: 5, stride: 3, padding: 2, outputPadding: 2, activation: 'tanh' },
  },
  { name: 'convTranspose2d k3 d2 sigmoid', inShape: [1, 4, 4], spec: { type: 'convTranspose2d', filters: 2, kernelSize: 3, dilation: 2, activation: 'sigmoid' } },
  { name: 'maxPool2d k2', inShape: [3, 6, 7], spec: { type: 'maxPool2d', kernelSize: 2 } },
  { name: 'maxPool2d k3 s2 p1', inShape: [2, 7, 7], spec: { type: 'maxPool2d', kernelSize: 3, stride: 2, padding: 1 } },
  { name: 'avgPool2d k2', inShape: [3, 6, 7], spec: { type: 'avgPool2d', kernelSize: 2 } },
  { name: 'avgPool2d k3 s2 p1', inShape: [2, 7, 7], spec: { type: 'avgPool2d', kernelSize: 3, stride: 2, padding: 1 } },
  { name: 'upsample nearest ×2', inShape: [2, 3, 4], spec: { type: 'upsample', scale: 2, mode: 'nearest' } },
  { name: 'upsample bilinear ×2', inShape: [2, 3, 4], spec: { type: 'upsample', scale: 2, mode: 'bilinear' } },
  { name: 'upsample bilinear ×(3, 2)', inShape: [1, 4, 3], spec: { type: 'upsample', scale: [3, 2], mode: 'bilinear' } },
  { name: 'flatten', inShape: [2, 3, 4], spec: { type: 'flatten' } },
  { name: 'reshape', inShape: [24], spec: { type: 'reshape', shape: [2, 3, 4] } },
];

/** |got − fd| ≤ 2e-5 + 2e-3·|fd| for every element, else an error naming it. */
function expectGrad(got: ArrayLike<number>, f: () => number, arr: Float64Array, what: string): void {
  for (let i = 0; i < arr.length; i++) {
    const fd = centralDiff(f, arr, i);
    if (Math.abs(got[i] - fd) > 2e-5 + 2e-3 * Math.abs(fd)) throw new Error(`${what}[${i}]: backprop ${got[i]}, finite difference ${fd}`);
  }
}

describe('conv layers: forward vs float64, backward vs finite differences', () => {
  test.each(CASES)('$name', ({ inShape, spec }) => {
    const a = arena();
    const k = new Kernels(a);
    const live = a.liveTensors();
    const rng = new Rng(a, 3);
    const rows = 2;
    const net = new Sequential(k, inShape, [spec], 'net', true);
    const layer = net.layers[0];
    net.init(rng, 'glorotUniform');
    for (const p of net.params()) if (p.shape.length === 1) rng.uniform(p.value, -0.3, 0.3);
    net.reserve(rows);
    const n = rows * layer.inSize;
    const m = rows * layer.outSize;
    const xv = spacedInput(n, 5);
    const x = a.alloc(n);
    a.write(x, xv);
    const y = a.read(net.forward(x, rows), m);

    const ref = refOf(spec, inShape, layer.outShape);
    const ps = net.params().map((p) => Float64Array.from(a.f32(p.value)));
    const x64 = Float64Array.from(xv);
    expectAllClose(y, ref(x64, rows, ps).y, { atol: 1e-5, rtol: 1e-5, what: 'forward' });

    // L = Σ r·y, so dL/dy = r
    const r = randomArray(m, 9);
    const dy = a.alloc(m);
    a.write(dy, r);
    const dx = net.backward(dy, rows);
    const L = () => ref(x64, rows, ps).y.reduce((s, v, i) => s + v * r[i], 0);
    expectGrad(a.read(dx!, n), L, x64, 'dx');
    net.params().forEach((p, i) => expectGrad(a.read(p.grad), L, ps[i], p.name));

    for (const t of [x, dy]) a.release(t);
    net.dispose();
    rng.dispose();
    expect(a.liveTensors()).toBe(live);
  });

  test('a conv encoder and decoder with BCE: every parameter gradient; PyTorch names', () => {
    const a = arena();
    const k = new Kernels(a);
    const live = a.liveTensors();
    const rng = new Rng(a, 4);
    const rows = 3;
    const encSpecs: LayerSpec[] = [
      { type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 1, activation: 'elu' },
      { type: 'maxPool2d', kernelSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 5, activation: 'linear' },
    ];
    const decSpecs: LayerSpec[] = [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'reshape', shape: [4, 2, 2] },
      { type: 'upsample', scale: 2, mode: 'bilinear' },
      { type: 'convTranspose2d', filters: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, activation: 'sigmoid' },
    ];
    const enc = new Sequential(k, [1, 8, 8], encSpecs, 'encoder', false);
    const dec = new Sequential(k, [5], decSpecs, 'decoder', true);
    expect(enc.params().map((p) => `${p.name} [${p.shape.join(', ')}]`)).toEqual([
      'encoder.0.weight [4, 1, 3, 3]', 'encoder.0.bias [4]', 'encoder.4.weight [5, 16]', 'encoder.4.bias [5]',
    ]);
    expect(dec.params().map((p) => `${p.name} [${p.shape.join(', ')}]`)).toEqual([
      'decoder.0.weight [16, 5]', 'decoder.0.bias [16]', 'decoder.4.weight [4, 1, 3, 3]', 'decoder.4.bias [1]',
    ]);
    expect(dec.last.outShape).toEqual([1, 8, 8]);
    enc.init(rng, 'glorotUniform');
    dec.init(rng, 'glorotUniform');
    for (const p of [...enc.params(), ...dec.params()]) if (p.shape.length === 1) rng.uniform(p.value, -0.3, 0.3);
    enc.reserve(rows);
    dec.reserve(rows);
    const n = rows * 64;
    const xv = randomArray(n, 12, 0, 1);
    const x = a.alloc(n);
    a.write(x, xv);
    const grad = a.alloc(n);
    dec.forward(enc.forward(x, rows), rows);
    const value = k.loss('bceLogits', dec.last, x, grad, rows, 64, 1 / n) / n;
    enc.backward(dec.backward(grad, rows, true)!, rows);

    const layers = [...enc.layers, ...dec.layers];
    const refs = layers.map((l, i) => refOf([...encSpecs, ...decSpecs][i], l.inShape, l.outShape));
    const ps = layers.map((l) => l.params().map((p) => Float64Array.from(a.f32(p.value))));
    const x64 = Float64Array.from(xv);
    const f = () => {
      let h: Float64Array = x64;
      let z: Float64Array = x64;
      refs.forEach((ref, i) => ({ y: h, z } = ref(h, rows, ps[i])));
      return refLoss.bceLogits(z, xv);
    };
    expect(value).toBeCloseTo(f(), 5);
    layers.forEach((l, li) => l.params().forEach((p, pi) => expectGrad(a.read(p.grad), f, ps[li][pi], p.name)));
    for (const t of [x, grad]) a.release(t);
    enc.dispose();
    dec.dispose();
    rng.dispose();
    expect(a.liveTensors()).toBe(live);
  });

  test('init: PyTorch fans (conv: in·k·k; transposed conv: out·k·k from its [in, out, k, k] weight)', () => {
    const a = arena();
    const k = new Kernels(a);
    const rng = new Rng(a, 1);
    const net = new Sequential(k, [8, 5, 5], [
      { type: 'conv2d', filters: 2, kernelSize: 3 },
      { type: 'convTranspose2d', filters: 6, kernelSize: 3 },
    ], 'm', false);
    net.init(rng, 'pytorch');
    const [cw, cb, tw, tb] = net.params().map((p) => a.read(p.value));
    const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    // U(±1/√fan_in) for weight and bias
    const conv = 1 / Math.sqrt(8 * 9);
    const convT = 1 / Math.sqrt(6 * 9);
    expect(maxAbs(cw)).toBeLessThanOrEqual(conv);
    expect(maxAbs(cw)).toBeGreaterThan(0.9 * conv);
    expect(maxAbs(cb)).toBeLessThanOrEqual(conv);
    expect(maxAbs(tw)).toBeLessThanOrEqual(convT);
    expect(maxAbs(tw)).toBeGreaterThan(0.9 * convT);
    expect(maxAbs(tb)).toBeLessThanOrEqual(convT);
    net.dispose();
    rng.dispose();
  });

  test('construction errors are typed and name the layer and what was expected', () => {
    const a = arena();
    const k = new Kernels(a);
    const live = a.liveTensors();
    const make = (inShape: number[], specs: LayerSpec[]) => () => new Sequential(k, inShape, specs, 'encoder', false);
    expect(make([1, 4, 4], [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'conv2d', filters: 2, kernelSize: 3 }]))
      .toThrow(/encoder\.1 \(conv2d\): the kernel \(3×3 with dilation\) is larger than the padded input \(2×2/);
    expect(make([1, 4, 4], [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'conv2d', filters: 2, kernelSize: 3 }])).toThrow(ShapeError);
    expect(make([16], [{ type: 'conv2d', filters: 2, kernelSize: 3 }])).toThrow(/encoder\.0 \(conv2d\): expects per-sample inputs \[channels, height, width\]; got \[16\]/);
    expect(make([2, 3, 3], [{ type: 'maxPool2d', kernelSize: 4 }])).toThrow(ShapeError);
    expect(make([12], [{ type: 'reshape', shape: [2, 5] }])).toThrow(/cannot reshape \[12\] \(12 values\) to \[2, 5\]/);
    expect(make([1, 4, 4], [{ type: 'convTranspose2d', filters: 1, kernelSize: 3, stride: 2, outputPadding: 2 }])).toThrow(InputError);
    expect(make([1, 4, 4], [{ type: 'conv2d', filters: 0, kernelSize: 3 }])).toThrow(/encoder\.0 \(conv2d\): filters must be an integer ≥ 1/);
    expect(make([1, 4, 4], [{ type: 'upsample', scale: 2, mode: 'bicubic' as 'nearest' }])).toThrow(InputError);
    expect(make([1, 4, 4], [{ type: 'conv2d', filters: 1, kernelSize: [3, 3, 3] as unknown as number }])).toThrow(InputError);
    // a failed construction may leave the layers built before it allocated: callers dispose
    // nothing they did not get back, so Sequential must not leak — checked here
    expect(a.liveTensors()).toBe(live);
  });
});
