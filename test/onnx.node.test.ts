// ONNX export: every model class, exported by toOnnx and run by onnxruntime-web (WASM execution
// provider, one thread) in Node on real digits, gives our outputs within 1e-5. The models are
// trained for a few steps first, so the weights are not just their initial values.
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  Autoencoder, ConvAutoencoder, DenoisingAutoencoder, DisposedError, InputError, SparseAutoencoder, VAE,
  init, liveTensors, toOnnx, type LayerSpec,
} from '../src/index.js';
import { mnist } from './helpers/mnist.js';

await init();

/** `n` rows spread over the whole split (it is sorted by digit), so every digit is present. */
function spread(data: Float32Array, n: number, width = 784): Float32Array {
  const total = data.length / width;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    const r = Math.floor((i * total) / n);
    out.set(data.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}

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
    if (!(d <= worst)) (worst = d), (at = i);
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

describe('toOnnx runs in onnxruntime-web with our outputs', () => {
  test('Autoencoder 784-64-16-64-784 (relu, sigmoid): reconstruction and code', async () => {
    const start = liveTensors();
    const ae = await trained(new Autoencoder({ inputSize: 784, hidden: [64], latentSize: 16, seed: 1 }));
    await checkModel(ae);
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });

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

describe('toOnnx bad input', () => {
  test('a model kind that cannot be exported: InputError naming it', () => {
    class Custom extends Autoencoder {
      override readonly kind = 'custom';
    }
    const m = new Custom({ inputSize: 4, latentSize: 2 });
    expect(() => toOnnx(m as never)).toThrow(InputError);
    expect(() => toOnnx(m as never)).toThrow(/kind 'custom'.*exports autoencoder/);
    m.dispose();
    expect(() => toOnnx({} as never)).toThrow(/model must be a model of the family/);
    expect(() => toOnnx(null as never)).toThrow(InputError);
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
