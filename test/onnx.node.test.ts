// ONNX export: every model class, exported by toOnnx and run by onnxruntime-web (WASM execution
// provider, one thread) in Node on real digits, gives our outputs within 1e-5. The models are
// trained for a few steps first, so the weights are not just their initial values. int8 models
// (model.quantize()) give our bits wherever ONNX Runtime's ops are exact (see 'int8 models').
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  Autoencoder, ConvAutoencoder, DenoisingAutoencoder, DisposedError, InputError, SparseAutoencoder, VAE,
  init, liveTensors, toOnnx, type LayerSpec, type QuantizedModel,
} from '../src/index.js';
import { mnist, spread } from './helpers/mnist.js';
import { refGemm, refQuantize } from './helpers/int8.js';

await init();

const { train, test: held } = mnist();
const trainRows = spread(train, 256);
const heldRows = spread(held, 64);

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(process.cwd(), 'node_modules', 'onnxruntime-web', 'dist') + '/';
});

/** Runs the ONNX bytes on one input; every output by name. */
async function run(bytes: Uint8Array, input: string, data: Float32Array, width: number): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ [input]: new ort.Tensor('float32', data, [data.length / width, width]) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Every value within 1e-5 of ours, relative above magnitude 1 (f32 sums in another order). */
function expectClose(theirs: Float32Array | undefined, ours: Float32Array, what: string): void {
  expect(theirs, what).toBeDefined();
  expect(theirs!.length, what).toBe(ours.length);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(theirs![i] - ours[i]) / Math.max(1, Math.abs(ours[i]));
    if (!(d <= worst)) (worst = Number.isNaN(d) ? Infinity : d), (at = i); // a NaN fails, whatever follows
  }
  expect(worst, `${what}: worst at [${at}]: ONNX ${theirs![at]} vs ours ${ours[at]}`).toBeLessThanOrEqual(1e-5);
}

/** Exports the model (reconstruct and decode graphs) and checks both against ours. */
async function checkModel(model: Autoencoder | VAE, opset?: number): Promise<void> {
  const options = opset === undefined ? {} : { opset };
  const out = await run(toOnnx(model, options), 'x', heldRows, model.inputSize);
  expectClose(out.reconstruction, model.reconstruct(heldRows), 'reconstruction');
  if (model instanceof VAE) {
    const { mu, logVar } = model.encode(heldRows, { logVar: true });
    expectClose(out.mu, mu, 'mu');
    expectClose(out.logvar, logVar, 'logvar');
    expect(Object.keys(out).sort()).toEqual(['logvar', 'mu', 'reconstruction']);
  } else {
    expectClose(out.code, model.encode(heldRows), 'code');
    expect(Object.keys(out).sort()).toEqual(['code', 'reconstruction']);
  }
  const z = model instanceof VAE ? model.encode(heldRows) : model.encode(heldRows);
  const dec = await run(toOnnx(model, { ...options, graph: 'decode' }), 'z', z, model.latentSize);
  expectClose(dec.reconstruction, model.decode(z), 'decode');
}

async function trained<M extends Autoencoder | VAE>(model: M, epochs = 1): Promise<M> {
  await model.fit(trainRows, { epochs, batchSize: 32, shuffle: true });
  return model;
}

// every activation the library has, with their parameters, and dropout (the identity here)
const everyActivation: { encoder: LayerSpec[]; decoder: LayerSpec[] } = {
  encoder: [
    { type: 'dense', units: 48, activation: 'leakyRelu', alpha: 0.2 },
    { type: 'dropout', rate: 0.1 },
    { type: 'dense', units: 32, activation: 'elu', alpha: 0.7 },
    { type: 'dense', units: 24, activation: 'gelu' },
    { type: 'dense', units: 12, activation: 'tanh' },
  ],
  decoder: [
    { type: 'dense', units: 24, activation: 'softplus' },
    { type: 'dense', units: 32, activation: 'relu' },
    { type: 'dense', units: 40, activation: 'linear' },
    { type: 'dense', units: 48, activation: 'elu' },
    { type: 'dense', units: 784, activation: 'sigmoid' },
  ],
};

describe('toOnnx runs in onnxruntime-web with our outputs', () => {
  test('Autoencoder 784-64-16-64-784 (relu, sigmoid): reconstruction and code', async () => {
    const start = liveTensors();
    const ae = await trained(new Autoencoder({ inputSize: 784, hidden: [64], latentSize: 16, seed: 1 }));
    await checkModel(ae);
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });

  for (const opset of [17, 20]) {
    test(`every activation (leakyRelu, elu, gelu-tanh ${opset >= 20 ? 'as Gelu' : 'composed'}, tanh, softplus, relu, linear, sigmoid), opset ${opset}`, async () => {
      const ae = await trained(new Autoencoder({ inputSize: 784, layers: everyActivation, seed: 2 }));
      await checkModel(ae, opset);
      ae.dispose();
    });
  }

  test('DenoisingAutoencoder and SparseAutoencoder (mse, linear output)', async () => {
    const dae = await trained(new DenoisingAutoencoder({ inputSize: 784, hidden: [32], latentSize: 8, noise: { type: 'mask', p: 0.3 }, seed: 3 }));
    await checkModel(dae);
    dae.dispose();
    const sae = await trained(new SparseAutoencoder({
      inputSize: 784, hidden: [32], latentSize: 8, outputActivation: 'linear', loss: 'mse', sparsity: { l1: 1e-3 }, seed: 4,
    }));
    await checkModel(sae, 21);
    sae.dispose();
  });

  test('VAE 784-64-(8 μ, 8 log σ²), 8-64-784: μ, log σ² and decode(μ)', async () => {
    const vae = await trained(new VAE({ inputSize: 784, hidden: [64], latentSize: 8, seed: 5 }));
    await checkModel(vae);
    vae.dispose();
  });

  test('VAE with an empty trunk (the heads read x)', async () => {
    const vae = await trained(new VAE({ inputSize: 784, hidden: [], decoderHidden: [32], latentSize: 4, seed: 6 }));
    await checkModel(vae);
    vae.dispose();
  });

  test('normalizers as graph ops: standard (Autoencoder), minmax (VAE), fixed (conv); outputs in input units', async () => {
    const ae = await trained(new Autoencoder({
      inputSize: 784, hidden: [32], latentSize: 8, outputActivation: 'linear', loss: 'mse', normalize: 'standard', seed: 9,
    }));
    expect(ae.normalizer).not.toBeNull();
    await checkModel(ae);
    ae.dispose();
    const vae = await trained(new VAE({ inputSize: 784, hidden: [32], latentSize: 4, normalize: 'minmax', seed: 10 }));
    await checkModel(vae, 18);
    vae.dispose();
    const mean = Float32Array.from({ length: 784 }, (_, j) => 0.1 + (j % 7) * 0.05);
    const std = Float32Array.from({ length: 784 }, (_, j) => 0.5 + (j % 5) * 0.25);
    const conv = await trained(new ConvAutoencoder({ inputShape: [1, 28, 28], filters: [4], latentSize: 8, outputActivation: 'linear', loss: 'mse', normalize: { mean, std }, seed: 11 }));
    await checkModel(conv);
    conv.dispose();
  });

  test('ConvAutoencoder (Conv, ConvTranspose with output padding, Flatten, Reshape)', async () => {
    // 28 → 14 → 7 → 4 with stride 2: the decoder needs output padding to give back 7 and 14
    const conv = await trained(new ConvAutoencoder({ inputShape: [1, 28, 28], filters: [4, 8, 8], latentSize: 16, seed: 7 }));
    await checkModel(conv);
    conv.dispose();
  });

  test('conv layers by description: pooling with padding, dilation, nearest and bilinear upsampling', async () => {
    const ae = await trained(new Autoencoder({
      inputShape: [1, 28, 28],
      layers: {
        encoder: [
          { type: 'conv2d', filters: 4, kernelSize: 3, padding: 1, activation: 'relu' },
          { type: 'maxPool2d', kernelSize: 2 }, // 14
          { type: 'conv2d', filters: 6, kernelSize: [3, 5], padding: [2, 2], dilation: [2, 1], activation: 'elu' },
          { type: 'avgPool2d', kernelSize: 3, stride: 2, padding: 1 }, // 7
          { type: 'flatten' },
          { type: 'dense', units: 12, activation: 'linear' },
        ],
        decoder: [
          { type: 'dense', units: 6 * 7 * 7, activation: 'relu' },
          { type: 'reshape', shape: [6, 7, 7] },
          { type: 'upsample', scale: 2 }, // 14, nearest
          { type: 'conv2d', filters: 4, kernelSize: 3, padding: 1, activation: 'tanh' },
          { type: 'upsample', scale: 2, mode: 'bilinear' }, // 28
          { type: 'convTranspose2d', filters: 1, kernelSize: 3, padding: 1, activation: 'sigmoid' },
        ],
      },
      seed: 8,
    }));
    await checkModel(ae);
    ae.dispose();
  });
});

/** Bit for bit: every value of ONNX Runtime's output is ours (the first difference named). */
function expectBits(theirs: Float32Array | undefined, ours: Float32Array, what: string): void {
  expect(theirs, what).toBeDefined();
  expect(theirs!.length, what).toBe(ours.length);
  const at = ours.findIndex((v, i) => !Object.is(v, theirs![i]));
  expect(at, at < 0 ? what : `${what}: first difference at [${at}]: ONNX ${theirs![at]} vs ours ${ours[at]}`).toBe(-1);
}

/** Runs the int8 model's reconstruct and decode graphs; `check` compares each output with ours. */
async function checkInt8(q: QuantizedModel, x: Float32Array, opset: number, check: (theirs: Float32Array | undefined, ours: Float32Array, what: string) => void): Promise<void> {
  const codeName = q.config.source === 'vae' ? 'mu' : 'code';
  const out = await run(toOnnx(q, { opset }), 'x', x, q.inputSize);
  expect(Object.keys(out).sort()).toEqual([codeName, 'reconstruction'].sort());
  const what = `${q.config.source} ${q.config.activations} opset ${opset}`;
  check(out[codeName], q.encode(x), `${what}: ${codeName}`);
  check(out.reconstruction, q.reconstruct(x), `${what}: reconstruction`);
  const z = q.encode(x);
  const dec = await run(toOnnx(q, { opset, graph: 'decode' }), 'z', z, q.latentSize);
  check(dec.reconstruction, q.decode(z), `${what}: decode`);
}

describe('int8 models (model.quantize()) in onnxruntime-web', () => {
  // The graph does what the core does, op for op (src/io/onnx.ts, quantizedDense): the quantizer
  // is one f32 Div, Round (ties to even), Clip and Cast; the sums are exact int32 (MatMulInteger);
  // the rescale is two f32 Muls and an Add in our order. ONNX Runtime's Relu, LeakyRelu, Sub, Div,
  // Mul and Add are IEEE operations too, so a network of those gives our bits exactly.
  test('ReLU / linear networks, dynamic and static activations, opsets 17 and 18: our bits, on digits, ties, zero and saturating rows', async () => {
    const start = liveTensors();
    const ae = await trained(new Autoencoder({ inputSize: 784, hidden: [64], latentSize: 16, outputActivation: 'linear', loss: 'mse', seed: 12 }));
    // rows beside the digits: exact ties (max 127 makes the row's scale exactly 1, the other
    // values are k + ½, which Round takes to even), a row of zeros (scale 1 by rule), a row whose
    // scale underflows to 0 (scale 1 by rule) and one whose scale is subnormal
    const ties = Float32Array.from({ length: 784 }, (_, j) => (j === 0 ? 127 : (j % 9) - 4 + 0.5));
    const tiny = new Float32Array(784);
    tiny[3] = 1e-45;
    const subnormal = new Float32Array(784).fill(1e-42);
    const x = new Float32Array((heldRows.length / 784 + 4) * 784);
    [heldRows, ties, new Float32Array(784), tiny, subnormal].reduce((o, r) => (x.set(r, o), o + r.length), 0);
    // the tie row really holds ties, and rounding them half away from zero would change the sums
    const { q: even, s } = refQuantize(ties, 1, 784, 0);
    expect(s[0]).toBe(1);
    expect(Array.from(even.subarray(9, 18))).toEqual([-4, -2, -2, 0, 0, 2, 2, 4, 4]); // −3.5 … 4.5
    const away = Int16Array.from(ties, (v) => Math.sign(v) * Math.round(Math.abs(v)));
    const dynamic = ae.quantize();
    const l0 = dynamic.getLayers().encoder[0];
    const acc = (qv: Int16Array) => refGemm(qv, s, l0.weight, l0.weightScale, l0.bias, 1, l0.outSize, 784);
    expect(Array.from(acc(even))).not.toEqual(Array.from(acc(away)));

    // static: scales from digits (max 1), so the tie row's 127 and −3.5 saturate at ±127 (the
    // Clip keeps −127 where QuantizeLinear would give −128)
    for (const q of [dynamic, ae.quantize({ activations: 'static', calibration: trainRows })]) {
      for (const opset of [17, 18]) await checkInt8(q, x, opset, expectBits); // ReduceMax's axes: attribute, then input
      q.dispose();
    }
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('normalizers as graph ops (standard, minmax): our bits', async () => {
    const ae = await trained(new Autoencoder({
      inputSize: 784, hidden: [32], latentSize: 8, outputActivation: 'linear', loss: 'mse', normalize: 'standard', seed: 13,
    }));
    const vae = await trained(new VAE({ inputSize: 784, hidden: [32], latentSize: 4, outputActivation: 'linear', loss: 'mse', normalize: 'minmax', seed: 14 }));
    for (const m of [ae, vae]) {
      const q = m.quantize();
      expect(q.normalizer).not.toBeNull();
      await checkInt8(q, heldRows, 17, expectBits);
      q.dispose();
      m.dispose();
    }
  });

  // Sigmoid, tanh, ELU, GELU and softplus are ONNX Runtime's own, a few ulps from ours (1e-5 is
  // the f32 export's bound above). Before the next layer quantizes them, a value that lands within
  // those ulps of a rounding boundary (k + ½)·s would move one step, and the row's scale moves with
  // its largest value: the integer path stays exact, but its inputs differ. Such a flip moves that
  // layer's outputs by at most s·max|W[j, :]|; it did not occur on these rows (nor on all 2,004
  // held-out digits in every configuration here, when this test was written).
  test('every activation, the VAE (μ), denoising and sparse autoencoders: the integer path exact, activations within 1e-5', async () => {
    const every = await trained(new Autoencoder({ inputSize: 784, layers: everyActivation, seed: 2 }));
    const vae = await trained(new VAE({ inputSize: 784, hidden: [64], latentSize: 8, seed: 5 }));
    const dae = await trained(new DenoisingAutoencoder({ inputSize: 784, hidden: [32], latentSize: 8, noise: { type: 'mask', p: 0.3 }, seed: 3 }));
    const sae = await trained(new SparseAutoencoder({ inputSize: 784, hidden: [32], latentSize: 8, sparsity: { l1: 1e-3 }, seed: 4 }));
    for (const [m, opset] of [[every, 17], [every, 20], [vae, 17], [dae, 19], [sae, 21]] as const) {
      for (const q of [m.quantize(), m.quantize({ activations: 'static', calibration: trainRows })]) {
        await checkInt8(q, heldRows, opset, expectClose);
        q.dispose();
      }
    }
    // ReLU trunks: the codes (μ) come before any transcendental function, so they are ours exactly
    for (const m of [vae, dae, sae]) {
      const q = m.quantize();
      const out = await run(toOnnx(q), 'x', heldRows, 784);
      expectBits(out[m === vae ? 'mu' : 'code'], q.encode(heldRows), `${m.kind}: code`);
      q.dispose();
    }
    for (const m of [every, vae, dae, sae]) m.dispose();
  });

  test('a disposed int8 model: DisposedError', () => {
    const ae = new Autoencoder({ inputSize: 4, latentSize: 2 });
    const q = ae.quantize();
    q.dispose();
    expect(() => toOnnx(q)).toThrow(DisposedError);
    ae.dispose();
  });
});

describe('toOnnx bad input', () => {
  test('a model kind that cannot be exported: InputError naming it', () => {
    class Custom extends Autoencoder {
      static override readonly kind: string = 'custom';
    }
    const m = new Custom({ inputSize: 4, latentSize: 2 });
    expect(() => toOnnx(m as never)).toThrow(InputError);
    expect(() => toOnnx(m as never)).toThrow(/kind 'custom'.*exports autoencoder/);
    m.dispose();
    expect(() => toOnnx({} as never)).toThrow(/model must be a model of the family/);
    expect(() => toOnnx(null as never)).toThrow(InputError);
  });

  test('a normalizer not fitted yet: InputError, nothing exported', () => {
    const ae = new Autoencoder({ inputSize: 4, latentSize: 2, normalize: 'standard' });
    expect(() => toOnnx(ae)).toThrow(/toOnnx: the model's standard normalizer has no statistics yet: call fit\(x\) or fitNormalizer\(x\) first/);
    ae.fitNormalizer(new Float32Array([0, 1, 2, 3, 4, 5, 6, 8]));
    expect(toOnnx(ae).length).toBeGreaterThan(0);
    ae.dispose();
  });

  test('options: unknown keys, opset out of range, unknown graph; a disposed model', () => {
    const ae = new Autoencoder({ inputSize: 4, latentSize: 2 });
    expect(() => toOnnx(ae, { opst: 18 } as never)).toThrow(/toOnnx options\.opst is not an option; did you mean 'opset'/);
    expect(() => toOnnx(ae, { opset: 16 })).toThrow(/options\.opset/);
    expect(() => toOnnx(ae, { opset: 22 })).toThrow(/options\.opset must be at most 21; got 22/);
    expect(() => toOnnx(ae, { graph: 'encode' } as never)).toThrow(/options\.graph must be 'reconstruct' or 'decode'; got "encode"/);
    // the model is untouched by the refusals
    const x = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    const before = ae.reconstruct(x);
    expect(toOnnx(ae).length).toBeGreaterThan(0);
    expect(ae.reconstruct(x)).toEqual(before);
    ae.dispose();
    expect(() => toOnnx(ae)).toThrow(DisposedError);
  });
});
