// ConvAutoencoder: the resolved architecture (PyTorch names and shapes, sizes retraced exactly by
// the decoder for odd inputs), typed config errors, rebuilding from its layers description,
// training on a tiny batch, and memory returned on dispose.
import { describe, expect, test } from 'vitest';
import { Autoencoder, ConvAutoencoder, init, InputError, liveTensors, loadModel, ShapeError, type ConvAutoencoderConfig } from '../src/index.js';
import { randomArray } from './helpers/reference.js';

await init();

const shapes = (m: ConvAutoencoder) => Object.entries(m.getWeights()).map(([k, v]) => `${k} ${v.length}`);

describe('ConvAutoencoder', () => {
  test("docs/models.md's example: PyTorch module indices, weight layouts, 211,905 parameters", () => {
    const start = liveTensors();
    const m = new ConvAutoencoder({
      inputShape: [1, 28, 28], filters: [16, 32], kernelSize: 3, stride: 2, latentSize: 64,
      activation: 'relu', outputActivation: 'sigmoid', loss: 'bce',
    });
    expect(m.kind).toBe('convAutoencoder');
    expect(m.inputSize).toBe(784);
    expect(m.inputShape).toEqual([1, 28, 28]);
    // nn.Sequential(Conv2d, ReLU, Conv2d, ReLU, Flatten, Linear) and
    // nn.Sequential(Linear, ReLU, Unflatten, ConvTranspose2d, ReLU, ConvTranspose2d, Sigmoid)
    const p = [...m.encoder.params(), ...m.decoder.params()].map((q) => `${q.name} [${q.shape.join(', ')}]`);
    expect(p).toEqual([
      'encoder.0.weight [16, 1, 3, 3]', 'encoder.0.bias [16]', 'encoder.2.weight [32, 16, 3, 3]', 'encoder.2.bias [32]',
      'encoder.5.weight [64, 1568]', 'encoder.5.bias [64]',
      'decoder.0.weight [1568, 64]', 'decoder.0.bias [1568]', 'decoder.3.weight [32, 16, 3, 3]', 'decoder.3.bias [16]',
      'decoder.5.weight [16, 1, 3, 3]', 'decoder.5.bias [1]',
    ]);
    expect(Object.values(m.getWeights()).reduce((s, v) => s + v.length, 0)).toBe(211_905);
    expect(m.encoder.layers.map((l) => l.outShape.join('×'))).toEqual(['16×14×14', '32×7×7', '1568', '64']);
    expect(m.decoder.layers.map((l) => l.outShape.join('×'))).toEqual(['1568', '32×7×7', '16×14×14', '1×28×28']);
    expect(m.config.layers.decoder[2]).toEqual({
      type: 'convTranspose2d', filters: 16, kernelSize: 3, stride: 2, padding: 1, outputPadding: [1, 1], activation: 'relu',
    });
    m.dispose();
    expect(liveTensors()).toBe(start);
  });

  test.each([
    { inputShape: [3, 13, 9], filters: [4, 8], kernelSize: 3, stride: 2 },
    { inputShape: [2, 11, 16], filters: [5], kernelSize: 5, stride: 3 },
    { inputShape: [1, 12, 10], filters: [2, 3, 4], kernelSize: 2, stride: 2, padding: 0 },
  ] as const)('the decoder retraces $inputShape exactly (kernel $kernelSize, stride $stride)', (c) => {
    const m = new ConvAutoencoder({ ...c, inputShape: [...c.inputShape], filters: [...c.filters], latentSize: 6 });
    const enc = m.encoder.layers.filter((l) => l.spec.type === 'conv2d');
    const dec = m.decoder.layers.filter((l) => l.spec.type === 'convTranspose2d');
    expect(dec.map((l) => l.outShape)).toEqual(enc.map((l) => l.inShape).reverse());
    const x = randomArray(2 * m.inputSize, 1, 0, 1);
    expect(m.reconstruct(x).length).toBe(2 * m.inputSize);
    expect(m.encode(x).length).toBe(12);
    m.dispose();
  });

  test('config errors are typed and say what was expected', () => {
    const start = liveTensors();
    expect(() => new ConvAutoencoder({ inputShape: [1, 4, 4], filters: [4, 4, 4, 4], kernelSize: 5, stride: 2, padding: 0, latentSize: 2 }))
      .toThrow(ShapeError);
    expect(() => new ConvAutoencoder({ inputShape: [1, 4, 4], filters: [4], kernelSize: 5, padding: 0, latentSize: 2 }))
      .toThrow(/filters\[0\]: the 5×5 kernel does not fit the 4×4 input/);
    expect(() => new ConvAutoencoder({ inputShape: [784] as unknown as [number, number, number], latentSize: 2 }))
      .toThrow(/inputShape must be \[channels, height, width\]; got \[784\]/);
    expect(() => new ConvAutoencoder({ inputShape: [1, 8, 8], latentSize: 2, filters: [] })).toThrow(InputError);
    expect(() => new ConvAutoencoder({ inputShape: [1, 8, 8], latentSize: 2, activation: 'swish' as 'relu' })).toThrow(InputError);
    expect(() => new ConvAutoencoder({ inputShape: [1, 8, 8], latentSize: 2, outputActivation: 'linear', loss: 'bce' })).toThrow(/needs outputActivation 'sigmoid'/);
    expect(liveTensors()).toBe(start);
  });

  test('rebuilds from its resolved layers description with the same architecture; trains; frees its memory', async () => {
    const start = liveTensors();
    const m = new ConvAutoencoder({ inputShape: [2, 8, 8], filters: [4, 6], latentSize: 5, seed: 3 });
    const again = new ConvAutoencoder(m.config as never);
    expect(shapes(again)).toEqual(shapes(m));
    expect(again.getWeights()).toEqual(m.getWeights()); // same seed, same init
    const x = randomArray(32 * 128, 2, 0, 1);
    const h = await m.fit(x, { epochs: 8, batchSize: 8 });
    expect(h.loss[7]).toBeLessThan(h.loss[0]);
    const { mse } = m.evaluate(x);
    expect(mse).toBeGreaterThan(0);
    expect(m.reconstructionError(x).length).toBe(32);
    m.dispose();
    again.dispose();
    expect(liveTensors()).toBe(start);
  });

  // defect 2: these options used to be dropped silently. Each variant must train to exactly the
  // bits of the Autoencoder built from the same layers description with the same option (whose
  // noise and penalties are tested against references), and away from the plain conv model.
  const variants: [string, Partial<ConvAutoencoderConfig>][] = [
    ['gaussian noise', { noise: { type: 'gaussian', std: 0.3 } }],
    ['mask noise', { noise: { type: 'mask', p: 0.3 } }],
    ['salt-and-pepper noise', { noise: { type: 'saltPepper', p: 0.2 } }],
    ['L1 sparsity', { sparsity: { l1: 0.5 } }],
    ['KL sparsity', { latentActivation: 'sigmoid', sparsity: { kl: { target: 0.05, weight: 1 } } }],
  ];
  test.each(variants)('%s: trains as the Autoencoder with that option does, not as the plain model; saved and loaded with it', async (_, extra) => {
    const start = liveTensors();
    const base: ConvAutoencoderConfig = { inputShape: [1, 6, 6], filters: [3], latentSize: 4, seed: 5, latentActivation: extra.latentActivation };
    const x = randomArray(12 * 36, 8, 0, 1);
    const conv = new ConvAutoencoder({ ...base, ...extra });
    const plain = new ConvAutoencoder(base);
    const { noise, sparsity } = conv.config;
    expect(noise ?? sparsity).toBeDefined();
    const reference = new Autoencoder({ ...plain.config, ...(noise ? { noise } : { sparsity }) } as never);
    const fitted = [];
    for (const m of [conv, plain, reference]) fitted.push(await m.fit(x, { epochs: 2, batchSize: 4 }));
    expect(conv.getWeights()).toEqual(reference.getWeights());
    expect(conv.getWeights()).not.toEqual(plain.getWeights());
    if (sparsity) expect(Object.keys(fitted[0].metrics)).toEqual(['reconstruction', 'penalty']);
    const back = loadModel(conv.save());
    expect(back).toBeInstanceOf(ConvAutoencoder);
    expect(back.config).toEqual(conv.config);
    for (const m of [conv, plain, reference, back]) m.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('save → loadModel gives a ConvAutoencoder with the same outputs; a bad stored description throws a typed error', async () => {
    const start = liveTensors();
    const m = new ConvAutoencoder({ inputShape: [1, 12, 10], filters: [3, 5], latentSize: 4, seed: 9 });
    const x = randomArray(6 * 120, 5, 0, 1);
    await m.fit(x, { epochs: 2, batchSize: 3 });
    const bytes = m.save();
    const back = loadModel(bytes);
    expect(back).toBeInstanceOf(ConvAutoencoder);
    expect(back.reconstruct(x)).toEqual(m.reconstruct(x));
    expect(back.encode(x)).toEqual(m.encode(x));
    back.dispose();
    // the same file with a decoder that no longer ends at the input's size
    const bad = JSON.parse(JSON.stringify(m.config));
    bad.layers.decoder[bad.layers.decoder.length - 1].filters = 2;
    expect(() => new ConvAutoencoder(bad)).toThrow(/layers.decoder must end with 120 values per sample \(\[1, 12, 10\]\); it gives \[2, 12, 10\]/);
    bad.layers.encoder[0].type = 'conv3d';
    expect(() => new ConvAutoencoder(bad)).toThrow(InputError);
    m.dispose();
    expect(liveTensors()).toBe(start);
  });
});
