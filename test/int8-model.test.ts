// model.quantize(): the QuantizedModel against a scalar JS model of the whole int8 forward (bit
// for bit), on real digits against its f32 model (held-out MSE, which also picks the activation
// scheme), its file (I8 + F32 scales, ≥ 3.5× smaller, loadModel bitwise), and bad input.
import { describe, expect, test } from 'vitest';
import {
  Autoencoder, FormatError, InputError, QuantizedModel, ShapeError, VAE, DisposedError,
  init, liveTensors, loadModel, readSafetensors, writeSafetensors, type TensorToWrite,
} from '../src/index.js';
import { quantizeWeights } from '../src/models/quantized.js';
import { meanSq, mnist } from './helpers/mnist.js';
import { refGemm, refQuantize } from './helpers/int8.js';
import { randomArray } from './helpers/reference.js';

await init();

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const quantile50 = (s: Float32Array) => {
  const v = Float64Array.from(s).sort();
  const h = (v.length - 1) / 2;
  return v[Math.floor(h)] + (h - Math.floor(h)) * (v[Math.ceil(h)] - v[Math.floor(h)]);
};

describe('the int8 forward, bit for bit', () => {
  test('ReLU/linear autoencoder: reconstruct and encode equal a scalar JS model of quantize → int8 GEMM → bias → ReLU', () => {
    const start = liveTensors();
    const [inSize, h, code] = [23, 13, 5];
    const ae = new Autoencoder({ inputSize: inSize, hidden: [h], latentSize: code, activation: 'relu', outputActivation: 'linear', seed: 3 });
    const x = randomArray(37 * inSize, 9, -1, 2);
    for (const activations of ['dynamic', 'static'] as const) {
      const q = ae.quantize({ activations, calibration: x.subarray(0, 10 * inSize) });
      const w = ae.getWeights();
      // the scalar model: each layer quantizes its input (per row, or with the static scale)
      const names = ['encoder.0', 'encoder.2', 'decoder.0', 'decoder.2'];
      const acts = [true, false, true, false];
      const file = readSafetensors(q.save());
      let hcur = x;
      let codes: Float32Array | null = null;
      names.forEach((name, l) => {
        const [out, k] = file.tensors.get(`${name}.weight`)!.shape;
        const { weight, weightScale } = quantizeWeights(w[`${name}.weight`], out, k);
        const fixed = activations === 'static' ? new Float32Array(file.tensors.get(`${name}.input_scale`)!.bytes.slice().buffer)[0] : 0;
        const rows = hcur.length / k;
        const r = refQuantize(hcur, rows, k, fixed);
        const z = refGemm(r.q, r.s, weight, weightScale, w[`${name}.bias`], rows, out, k);
        if (acts[l]) for (let i = 0; i < z.length; i++) z[i] = Math.max(z[i], 0);
        hcur = z;
        if (name === 'encoder.2') codes = z;
      });
      expect(bits(q.reconstruct(x)), activations).toEqual(bits(hcur));
      expect(bits(q.encode(x)), activations).toEqual(bits(codes!));
      // a row's result does not depend on the batch it comes in
      expect(bits(q.reconstruct(x.subarray(5 * inSize, 6 * inSize)))).toEqual(bits(hcur.subarray(5 * inSize, 6 * inSize)));
      q.dispose();
    }
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });
});

describe('MNIST, card model 784-256-64-256-784', () => {
  test('held-out MSE of the int8 model within 2% (relative) of the f32 model; dynamic activations beat static ones', async () => {
    const { train, test: held } = mnist();
    const start = liveTensors();
    const ae = new Autoencoder({
      inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu',
      outputActivation: 'sigmoid', loss: 'bce', seed: 0,
    });
    await ae.fit(train, { epochs: 3, batchSize: 64 });
    const f32 = meanSq(ae.reconstruct(held), held);
    const dynamic = ae.quantize();
    const stat = ae.quantize({ activations: 'static', calibration: train.subarray(0, 2000 * 784) });
    const mseDynamic = meanSq(dynamic.reconstruct(held), held);
    const mseStatic = meanSq(stat.reconstruct(held), held);
    // eslint-disable-next-line no-console
    console.log(`held-out MSE: f32 ${f32.toFixed(6)}, int8 dynamic ${mseDynamic.toFixed(6)} (${((mseDynamic / f32 - 1) * 100).toFixed(2)}%), ` +
      `int8 static ${mseStatic.toFixed(6)} (${((mseStatic / f32 - 1) * 100).toFixed(2)}%)`);
    expect(Math.abs(mseDynamic / f32 - 1)).toBeLessThan(0.02);
    expect(mseDynamic).toBeLessThan(mseStatic); // why 'dynamic' is the default
    // scores: reconstructionError and score agree with the reconstruction
    const s = dynamic.score(held.subarray(0, 3 * 784));
    const r = dynamic.reconstruct(held.subarray(0, 3 * 784));
    for (let i = 0; i < 3; i++) expect(s[i]).toBeCloseTo(meanSq(r.subarray(i * 784, i * 784 + 784), held.subarray(i * 784, i * 784 + 784)), 6);

    // the file: I8 weights, F32 scales, ≥ 3.5× smaller than f32; loadModel gives the same bits
    const bytes = dynamic.save();
    const f32Bytes = ae.save();
    // eslint-disable-next-line no-console
    console.log(`file: f32 ${f32Bytes.length} bytes, int8 ${bytes.length} bytes (${(f32Bytes.length / bytes.length).toFixed(2)}× smaller)`);
    expect(f32Bytes.length / bytes.length).toBeGreaterThanOrEqual(3.5);
    const file = readSafetensors(bytes);
    expect(file.tensors.get('encoder.0.weight')).toMatchObject({ dtype: 'I8', shape: [256, 784] });
    expect(file.tensors.get('encoder.0.weight_scale')).toMatchObject({ dtype: 'F32', shape: [256] });
    expect(file.tensors.get('decoder.2.bias')).toMatchObject({ dtype: 'F32', shape: [784] });
    const back = loadModel(bytes);
    expect(back).toBeInstanceOf(QuantizedModel);
    const b = back as QuantizedModel;
    expect(bits(b.reconstruct(held.subarray(0, 50 * 784)))).toEqual(bits(dynamic.reconstruct(held.subarray(0, 50 * 784))));
    const sBack = loadModel(stat.save()) as QuantizedModel;
    expect(sBack.config.activations).toBe('static');
    expect(bits(sBack.encode(held.subarray(0, 50 * 784)))).toEqual(bits(stat.encode(held.subarray(0, 50 * 784))));
    for (const m of [ae, dynamic, stat, b, sBack]) m.dispose();
    expect(liveTensors()).toBe(start);
  });
});

describe('every model class', () => {
  test('VAE: encode gives μ, reconstruct = decode(μ), close to the f32 model', () => {
    const vae = new VAE({ inputSize: 40, hidden: [24], latentSize: 6, seed: 2 });
    const x = randomArray(30 * 40, 4, 0, 1);
    const q = vae.quantize();
    expect(q.config.encoder.map((l) => l.name)).toEqual(['encoder.0', 'mu']);
    const mu = vae.encode(x);
    const qmu = q.encode(x);
    for (let i = 0; i < mu.length; i++) expect(Math.abs(qmu[i] - mu[i])).toBeLessThan(0.03);
    expect(bits(q.reconstruct(x))).toEqual(bits(q.decode(qmu)));
    const r = vae.reconstruct(x);
    expect(meanSq(q.reconstruct(x), r)).toBeLessThan(1e-4);
    q.dispose();
    vae.dispose();
  });

  test('denoising and sparse autoencoders quantize; dropout layers are skipped, names kept', () => {
    const ae = new Autoencoder({
      inputSize: 12,
      layers: { encoder: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 3, activation: 'linear' }],
        decoder: [{ type: 'dense', units: 12, activation: 'sigmoid' }] },
      noise: { type: 'gaussian', std: 0.1 }, seed: 1,
    });
    const q = ae.quantize();
    expect(q.config.encoder.map((l) => l.name)).toEqual(['encoder.0', 'encoder.3']);
    const x = randomArray(9 * 12, 2, 0, 1);
    expect(meanSq(q.reconstruct(x), ae.reconstruct(x))).toBeLessThan(1e-4);
    q.dispose();
    ae.dispose();
  });

  test('a normalized, calibrated detector: normalizer and threshold come along, in memory and in the file', () => {
    const start = liveTensors();
    const x = randomArray(200 * 12, 6, 0, 10);
    const ae = new Autoencoder({ inputSize: 12, hidden: [8], latentSize: 4, outputActivation: 'linear', normalize: 'standard', seed: 4 });
    expect(() => ae.quantize()).toThrow(/normalizer is not fitted yet/);
    ae.fitNormalizer(x);
    ae.calibrate(x, { contamination: 0.05, metric: 'mae' });
    const q = ae.quantize();
    expect(q.normalizer).toEqual(ae.normalizer);
    expect(q.threshold).toBe(ae.threshold);
    expect(q.thresholdMetric).toBe('mae');
    // outputs in x's units, scores in normalized units, as the f32 model's
    const r = ae.reconstruct(x);
    expect(meanSq(q.reconstruct(x), r) / meanSq(r, new Float32Array(r.length))).toBeLessThan(1e-3);
    const s32 = ae.score(x, { metric: 'mae' });
    const s8 = q.score(x, { metric: 'mae' });
    for (let i = 0; i < s32.length; i++) expect(Math.abs(s8[i] - s32[i])).toBeLessThan(0.02 * s32[i] + 1e-3);
    const d = q.detect(x);
    expect(d.threshold).toBe(ae.threshold);
    const agree = d.flags.filter((f, i) => f === ae.predict(x)[i]).length;
    expect(agree).toBeGreaterThanOrEqual(195);
    const back = loadModel(q.save()) as QuantizedModel;
    expect(back.normalizer).toEqual(q.normalizer);
    expect(back.threshold).toBe(q.threshold);
    expect(back.thresholdMetric).toBe('mae');
    expect(Array.from(back.predict(x))).toEqual(Array.from(d.flags));
    expect(bits(back.reconstruct(x))).toEqual(bits(q.reconstruct(x)));
    // calibrate on the int8 model itself
    expect(back.calibrate(x, { quantile: 0.5 })).toBeCloseTo(quantile50(back.score(x)), 7);
    for (const m of [ae, q, back]) m.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('pooling and upsampling: an InputError naming the layer int8 does not cover (convolutions: int8-conv.test.ts)', () => {
    const pooled = new Autoencoder({
      inputShape: [1, 8, 8],
      layers: {
        encoder: [{ type: 'conv2d', filters: 2, kernelSize: 3, padding: 1 }, { type: 'maxPool2d', kernelSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 4, activation: 'linear' }],
        decoder: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'reshape', shape: [2, 4, 4] }, { type: 'upsample', scale: 2 }, { type: 'conv2d', filters: 1, kernelSize: 3, padding: 1 }],
      },
      seed: 0,
    });
    const start = liveTensors();
    expect(() => pooled.quantize()).toThrow(InputError);
    expect(() => pooled.quantize()).toThrow(/encoder layer 1 is 'maxPool2d', which int8 inference does not cover yet/);
    expect(liveTensors()).toBe(start);
    pooled.dispose();
  });
});

describe('bad input', () => {
  const ae = new Autoencoder({ inputSize: 10, hidden: [6], latentSize: 3, seed: 1 });
  const x = randomArray(8 * 10, 1, 0, 1);

  test('options: unknown keys, static without calibration, calibration of the wrong width, bad activations', () => {
    const start = liveTensors();
    expect(() => ae.quantize({ calibraton: x } as never)).toThrow(/calibraton.*did you mean 'calibration'/);
    expect(() => ae.quantize({ activations: 'static' })).toThrow(InputError);
    expect(() => ae.quantize({ activations: 'static' })).toThrow(/calibration is missing/);
    expect(() => ae.quantize({ calibration: randomArray(9, 1) })).toThrow(ShapeError);
    expect(() => ae.quantize({ calibration: [[1, 2, 3]] })).toThrow(/calibration\[0\] has 3 values; expected 10/);
    expect(() => ae.quantize({ activations: 'perTensor' as never })).toThrow(/activations must be 'dynamic' or 'static'/);
    expect(liveTensors()).toBe(start);
    const q = ae.quantize();
    expect(() => q.reconstruct(randomArray(7, 1))).toThrow(ShapeError);
    expect(() => q.score(x, { metric: 'negElbo' })).toThrow(/metric must be one of mse, mae, euclidean/);
    expect(() => q.score(x, { metrc: 'mse' } as never)).toThrow(/did you mean 'metric'/);
    q.dispose();
    expect(() => q.encode(x)).toThrow(DisposedError);
  });

  /** The quantized file with one tensor replaced (or removed with null). */
  function edited(bytes: Uint8Array, name: string, replace: ((t: TensorToWrite) => TensorToWrite) | null): Uint8Array {
    const file = readSafetensors(bytes);
    const tensors: TensorToWrite[] = [];
    for (const [n, e] of file.tensors) {
      const data = e.dtype === 'I8' ? new Int8Array(e.bytes.slice().buffer) : new Float32Array(e.bytes.slice().buffer);
      const t = { name: n, shape: e.shape, data };
      if (n !== name) tensors.push(t);
      else if (replace) tensors.push(replace(t));
    }
    return writeSafetensors(tensors, file.metadata!);
  }

  test('files: a missing scale, a wrong dtype, scales ≤ 0 or non-finite, −128 weights, extra tensors → FormatError', () => {
    const q = ae.quantize({ activations: 'static', calibration: x });
    const bytes = q.save();
    q.dispose();
    const start = liveTensors();
    const cases: [string, Uint8Array, RegExp][] = [
      ['missing weight_scale', edited(bytes, 'encoder.0.weight_scale', null), /encoder\.0\.weight_scale.*missing/],
      ['missing input_scale', edited(bytes, 'decoder.2.input_scale', null), /decoder\.2\.input_scale.*missing/],
      ['F32 weight', edited(bytes, 'encoder.0.weight', (t) => ({ ...t, data: Float32Array.from(t.data) })), /encoder\.0\.weight' has dtype F32.*I8/],
      ['I8 scale', edited(bytes, 'encoder.2.weight_scale', (t) => ({ ...t, data: new Int8Array(t.data.length).fill(1) })), /dtype I8.*F32/],
      ['zero scale', edited(bytes, 'encoder.0.weight_scale', (t) => ({ ...t, data: Float32Array.from(t.data, (v, i) => (i === 2 ? 0 : v)) })), /holds 0 at index 2.*> 0/],
      ['negative scale', edited(bytes, 'decoder.0.weight_scale', (t) => ({ ...t, data: Float32Array.from(t.data, (v) => -v) })), /scales must be finite and > 0/],
      ['NaN scale', edited(bytes, 'encoder.0.input_scale', (t) => ({ ...t, data: Float32Array.of(NaN) })), /NaN/],
      ['infinite scale', edited(bytes, 'decoder.0.weight_scale', (t) => ({ ...t, data: Float32Array.from(t.data, () => Infinity) })), /Infinity/],
      ['wrong shape', edited(bytes, 'encoder.0.bias', (t) => ({ ...t, shape: [3], data: new Float32Array(3) })), /shape \[3\]/],
      ['-128 weight', edited(bytes, 'encoder.0.weight', (t) => ({ ...t, data: Int8Array.from(t.data, (v, i) => (i === 0 ? -128 : v)) })), /-128/],
    ];
    for (const [what, b, msg] of cases) {
      expect(() => loadModel(b), what).toThrow(FormatError);
      expect(() => loadModel(b), what).toThrow(msg);
    }
    const file = readSafetensors(bytes);
    const withExtra = writeSafetensors(
      [...[...file.tensors].map(([n, e]) => ({ name: n, shape: e.shape, data: e.dtype === 'I8' ? new Int8Array(e.bytes.slice().buffer) : new Float32Array(e.bytes.slice().buffer) })),
        { name: 'encoder.9.weight', shape: [1], data: new Int8Array(1) }],
      file.metadata!,
    );
    expect(() => loadModel(withExtra)).toThrow(/does not have: encoder\.9\.weight/);
    const badConfig = writeSafetensors([], { ...file.metadata!, config: JSON.stringify({ ...JSON.parse(file.metadata!.config), inputSize: 11 }) });
    expect(() => loadModel(badConfig)).toThrow(FormatError);
    expect(liveTensors()).toBe(start);
  });
});
