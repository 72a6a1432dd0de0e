// Model files: save → load round trips (bitwise), exact training resume, PyTorch's weights via
// fromSafetensors, and typed FormatErrors for files that do not fit. Node and Chromium.
import { describe, expect, test } from 'vitest';
import {
  Autoencoder,
  DenoisingAutoencoder,
  SparseAutoencoder,
  VAE,
  FORMAT_VERSION,
  FormatError,
  init,
  liveTensors,
  loadModel,
  readSafetensors,
  writeSafetensors,
  type AutoencoderConfig,
} from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { loadFixture } from './fixtures/load.js';
import { randomArray } from './helpers/reference.js';

await init();

const W = 20;
const config: AutoencoderConfig = {
  inputSize: W, hidden: [12], latentSize: 4, activation: 'elu', latentActivation: 'tanh', seed: 3,
  optimizer: { type: 'adamw', learningRate: 0.01, amsgrad: true },
};
const x = randomArray(60 * W, 2, 0, 1);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('save and loadModel', () => {
  test('round trip: the same class, config, weights and outputs, bit for bit', async () => {
    const start = liveTensors();
    const ae = new Autoencoder(config);
    await ae.fit(x, { epochs: 2, batchSize: 16 });
    const bytes = ae.save();
    const back = loadModel(bytes);
    expect(back).toBeInstanceOf(Autoencoder);
    expect(back.config).toEqual(ae.config);
    expect(bits(back.reconstruct(x))).toEqual(bits(ae.reconstruct(x)));
    expect(bits(back.encode(x))).toEqual(bits(ae.encode(x)));
    // an ArrayBuffer works too (Blob.arrayBuffer() in browsers)
    const again = loadModel(bytes.slice().buffer);
    expect(bits(again.reconstruct(x))).toEqual(bits(ae.reconstruct(x)));
    for (const m of [ae, back, again]) m.dispose();
    expect(liveTensors()).toBe(start);
  });

  const family: [string, () => { save(o?: object): Uint8Array; reconstruct(x: Float32Array): Float32Array; encode(x: Float32Array): unknown; dispose(): void; kind: string }][] = [
    ['DenoisingAutoencoder', () => new DenoisingAutoencoder({ ...config, noise: { type: 'saltPepper', p: 0.1 } })],
    ['SparseAutoencoder', () => new SparseAutoencoder({ ...config, latentActivation: 'sigmoid', sparsity: { kl: { target: 0.1, weight: 0.5 } } })],
    ['VAE', () => new VAE({ inputSize: W, hidden: [12], latentSize: 3, seed: 4, beta: 0.5 })],
  ];
  test.each(family)('%s: round trip to the same class and bits', async (name, make) => {
    const start = liveTensors();
    const m = make();
    await (m as unknown as Autoencoder).fit(x, { epochs: 1, batchSize: 16 });
    const back = loadModel(m.save({ optimizer: true }));
    expect(back.constructor.name).toBe(name);
    expect(back.kind).toBe(m.kind);
    expect(bits(back.reconstruct(x))).toEqual(bits(m.reconstruct(x)));
    expect(JSON.stringify(back.encode(x))).toEqual(JSON.stringify(m.encode(x)));
    m.dispose();
    back.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('the file is plain safetensors with PyTorch names and shapes, and our metadata', () => {
    const ae = new Autoencoder({ ...config, latentActivation: 'relu' });
    const f = readSafetensors(ae.save());
    expect([...f.tensors.keys()]).toEqual([
      'encoder.0.weight', 'encoder.0.bias', 'encoder.2.weight', 'encoder.2.bias',
      'decoder.0.weight', 'decoder.0.bias', 'decoder.2.weight', 'decoder.2.bias',
    ]);
    expect(f.tensors.get('encoder.0.weight')!.shape).toEqual([12, W]);
    expect(f.tensors.get('decoder.2.weight')!.shape).toEqual([W, 12]);
    expect(f.tensors.get('encoder.0.weight')!.dtype).toBe('F32');
    expect(f.metadata).toMatchObject({ format: 'latent-wasm', formatVersion: String(FORMAT_VERSION), kind: 'autoencoder' });
    expect(JSON.parse(f.metadata!.config)).toEqual(ae.config);
    ae.dispose();
  });

  test('with the optimizer state, training resumes exactly', async () => {
    const a = new Autoencoder(config);
    await a.fit(x, { epochs: 1, batchSize: 16 });
    const b = loadModel(a.save({ optimizer: true })) as Autoencoder;
    expect(b.optimizer.step).toBe(a.optimizer.step);
    await a.fit(x, { epochs: 2, batchSize: 16 });
    await b.fit(x, { epochs: 2, batchSize: 16 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const k of Object.keys(wa)) expect(bits(wb[k])).toEqual(bits(wa[k]));
    // without it, the moments restart and the runs part ways
    const c = new Autoencoder(config);
    await c.fit(x, { epochs: 1, batchSize: 16 });
    const d = loadModel(c.save()) as Autoencoder;
    expect(d.optimizer.step).toBe(0);
    await c.fit(x, { epochs: 1, batchSize: 16 });
    await d.fit(x, { epochs: 1, batchSize: 16 });
    expect(bits(d.getWeights()['encoder.0.weight'])).not.toEqual(bits(c.getWeights()['encoder.0.weight']));
    for (const m of [a, b, c, d]) m.dispose();
  });
});

describe("PyTorch's weights (test/fixtures, saved by torch 1.13)", () => {
  const pyConfig: AutoencoderConfig = {
    inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu', outputActivation: 'sigmoid',
  };
  const f32 = (b: Uint8Array) => new Float32Array(b.slice().buffer);

  test('fromSafetensors reproduces PyTorch codes and reconstructions within 1e-5', async () => {
    const start = liveTensors();
    const ae = Autoencoder.fromSafetensors(await loadFixture('r1_mnist.safetensors'), pyConfig);
    const inputs = f32(await loadFixture('r1_inputs_16x784.f32'));
    const codes = ae.encode(inputs);
    const recon = ae.reconstruct(inputs);
    const worst = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(worst(codes, f32(await loadFixture('r1_codes_16x64.f32')))).toBeLessThan(1e-5);
    expect(worst(recon, f32(await loadFixture('r1_recon_16x784.f32')))).toBeLessThan(1e-5);
    // PyTorch's own per-pixel MSE for these 16 digits is 0.012782 (fixtures/README.md)
    expect(ae.evaluate(inputs).mse).toBeCloseTo(0.012782, 5);
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('loadModel refuses it with a pointer to fromSafetensors', async () => {
    expect(() => loadModel(/* bytes */ new Uint8Array(0))).toThrow(FormatError);
    const bytes = await loadFixture('r1_mnist.safetensors');
    expect(() => loadModel(bytes)).toThrow(/no latent-wasm metadata.*fromSafetensors/);
  });

  test('a config that does not fit the file: FormatError, nothing leaked', async () => {
    const start = liveTensors();
    const bytes = await loadFixture('r1_mnist.safetensors');
    expect(() => Autoencoder.fromSafetensors(bytes, { ...pyConfig, latentSize: 32 })).toThrow(/'encoder.2.weight' has shape \[64, 256\]; the model needs \[32, 256\]/);
    expect(() => Autoencoder.fromSafetensors(bytes, { ...pyConfig, hidden: [256, 128] })).toThrow(FormatError);
    expect(() => Autoencoder.fromSafetensors(bytes, { ...pyConfig, hidden: [] })).toThrow(FormatError);
    expect(liveTensors()).toBe(start);
  });
});

describe('files that do not fit: typed FormatErrors naming what and where', () => {
  const base = () => {
    const ae = new Autoencoder(config);
    const f = readSafetensors(ae.save({ optimizer: true }));
    ae.dispose();
    return f;
  };
  /** Rewrites a saved file with edits to its tensors or metadata. */
  const rewrite = (edit: (t: { name: string; shape: number[]; data: Float32Array }[], meta: Record<string, string>) => void) => {
    const f = base();
    const tensors = [...f.tensors].map(([name, e]) => ({ name, shape: [...e.shape], data: new Float32Array(e.bytes.slice().buffer) }));
    const meta = { ...f.metadata! };
    edit(tensors, meta);
    return writeSafetensors(tensors, meta);
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['a newer format version', rewrite((_, m) => void (m.formatVersion = '99')), /format version "99" .* reads versions 1/],
    ['an unknown kind', rewrite((_, m) => void (m.kind = 'gan')), /__metadata__.kind is "gan"; this library loads autoencoder, denoisingAutoencoder, sparseAutoencoder, vae, convAutoencoder/],
    ...['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'].map(
      (k): [string, Uint8Array, RegExp] => [`the Object.prototype key ${k} as kind`, rewrite((_, m) => void (m.kind = k)), new RegExp(`__metadata__.kind is "${k}"; this library loads`)],
    ),
    ['no kind', rewrite((_, m) => void delete m.kind), /__metadata__.kind is missing/],
    ['a format version in another notation', rewrite((_, m) => void (m.formatVersion = '0x1')), /format version "0x1"/],
    ['a format version with a fraction', rewrite((_, m) => void (m.formatVersion = '1.0')), /format version "1.0"/],
    ['no config', rewrite((_, m) => void delete m.config), /__metadata__.config is missing/],
    ['a config nested too deep', rewrite((_, m) => void (m.config = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))), /__metadata__.config nests objects or arrays 6 deep at character 25; expected at most 5/],
    ['a config that is an array', rewrite((_, m) => void (m.config = '[1]')), /config is not a JSON object/],
    ['a config with an unknown key', rewrite((_, m) => void (m.config = m.config.replace('"seed"', '"sead"'))), /config does not describe a valid autoencoder: Autoencoder config.sead is not an option; did you mean 'seed'/],
    // the file holds 2,628 weights; a latent size of 10^8 would need gigabytes: refused before any allocation grows memory
    ['a claimed size the file cannot hold', rewrite((_, m) => void (m.config = m.config.replace('"latentSize":4', '"latentSize":100000000').replace('"units":4,', '"units":100000000,'))), /config describes a autoencoder larger than its \d+ bytes can hold/],
    ['a config that is not JSON', rewrite((_, m) => void (m.config = '{oops')), /config is not valid JSON/],
    ['an invalid config', rewrite((_, m) => void (m.config = JSON.stringify({ inputSize: 0 }))), /config does not describe a valid autoencoder: inputSize/],
    ['a missing tensor', rewrite((t) => void t.splice(1, 1)), /'encoder.0.bias' \[12\] is missing/],
    ['a wrong shape', rewrite((t) => void (t[0].shape = [W, 12])), /'encoder.0.weight' has shape \[20, 12\]; the model needs \[12, 20\]/],
    ['a NaN weight', rewrite((t) => void (t[2].data[5] = NaN)), /'encoder.2.weight' holds NaN at index 5/],
    ['an extra tensor', rewrite((t) => void t.push({ name: 'head.weight', shape: [1], data: new Float32Array(1) })), /tensors this model does not have: head.weight/],
    ['a bad optimizer step', rewrite((_, m) => void (m.optimizerStep = '-3')), /optimizerStep must be a non-negative integer/],
    ['a bad RNG state', rewrite((_, m) => void (m.rngState = 'xyz')), /rngState must be 64 hex digits/],
  ];
  test.each(cases)('%s', (_, bytes, message) => {
    const start = liveTensors();
    const memory = arena().ex.memory.buffer.byteLength;
    expect(() => loadModel(bytes)).toThrow(FormatError);
    expect(() => loadModel(bytes)).toThrow(message);
    expect(liveTensors()).toBe(start);
    expect(arena().ex.memory.buffer.byteLength).toBe(memory);
  });
});

describe('typed loading: Class.load(bytes) returns that class', () => {
  test('each class loads its own files, bit for bit, typed as that class', () => {
    const start = liveTensors();
    const vae = new VAE({ inputSize: W, hidden: [12], latentSize: 3, seed: 4 });
    const back: VAE = VAE.load(vae.save());
    expect(back).toBeInstanceOf(VAE);
    // a VAE-only method, which compiles only because load returns a VAE
    expect(bits(back.sample(2, { seed: 1 }))).toEqual(bits(vae.sample(2, { seed: 1 })));
    const ae = new Autoencoder(config);
    const ae2: Autoencoder = Autoencoder.load(ae.save().buffer);
    expect(bits(ae2.encode(x))).toEqual(bits(ae.encode(x)));
    const dae = new DenoisingAutoencoder({ ...config, noise: { type: 'mask', p: 0.2 } });
    const dae2: DenoisingAutoencoder = DenoisingAutoencoder.load(dae.save());
    expect(bits(dae2.denoise(x))).toEqual(bits(dae.denoise(x)));
    for (const m of [vae, back, ae, ae2, dae, dae2]) m.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('a file of another kind is a FormatError naming both kinds, nothing built', () => {
    const start = liveTensors();
    const vae = new VAE({ inputSize: W, hidden: [12], latentSize: 3 });
    const ae = new DenoisingAutoencoder({ ...config, noise: { type: 'mask', p: 0.2 } });
    const vaeFile = vae.save();
    const daeFile = ae.save();
    vae.dispose();
    ae.dispose();
    expect(() => Autoencoder.load(vaeFile)).toThrow(FormatError);
    expect(() => Autoencoder.load(vaeFile)).toThrow(/__metadata__.kind is "vae"; expected autoencoder/);
    expect(() => VAE.load(daeFile)).toThrow(/__metadata__.kind is "denoisingAutoencoder"; expected vae/);
    // a subclass's file is not the base class's: the kinds must agree exactly
    expect(() => Autoencoder.load(daeFile)).toThrow(/"denoisingAutoencoder"; expected autoencoder/);
    expect(() => SparseAutoencoder.load(daeFile)).toThrow(FormatError);
    expect(liveTensors()).toBe(start);
  });

  test('save() returns a Uint8Array over an ArrayBuffer (a BlobPart)', () => {
    const ae = new Autoencoder(config);
    const bytes: Uint8Array<ArrayBuffer> = ae.save();
    expect(bytes.buffer).toBeInstanceOf(ArrayBuffer);
    expect(new Blob([ae.save()]).size).toBe(bytes.length);
    ae.dispose();
  });
});
