// checkKeys, and every options object of the public API refusing a misspelt key (defect 4).
import { describe, expect, it, test } from 'vitest';
import { checkKeys } from '../src/data.js';
import { InputError } from '../src/errors.js';
import {
  init, Autoencoder, DenoisingAutoencoder, SparseAutoencoder, VAE, ConvAutoencoder, readIdx, idxToFloat32, liveTensors,
} from '../src/index.js';
import { errorMessage } from './helpers/errors.js';

await init();

describe('checkKeys', () => {
  const allowed = ['epochs', 'batchSize', 'validationSplit', 'shuffle'];
  it('accepts known keys and an empty object', () => {
    expect(() => checkKeys({ epochs: 1, batchSize: 2 }, allowed, 'options')).not.toThrow();
    expect(() => checkKeys({}, allowed, 'options')).not.toThrow();
  });
  it('names the unknown key and the nearest valid one', () => {
    expect(() => checkKeys({ batch_size: 32 }, allowed, 'fit options')).toThrow(InputError);
    expect(() => checkKeys({ batch_size: 32 }, allowed, 'fit options')).toThrow(/fit options\.batch_size .*did you mean 'batchSize'/);
    expect(() => checkKeys({ epoch: 3 }, allowed, 'o')).toThrow(/did you mean 'epochs'/);
  });
  it('gives no suggestion when nothing is close, but lists the valid keys', () => {
    let message = '';
    try { checkKeys({ zzzzzzzzzz: 1 }, allowed, 'o'); } catch (e) { message = (e as Error).message; }
    expect(message).not.toMatch(/did you mean/);
    expect(message).toMatch(/expected one of epochs, batchSize, validationSplit, shuffle/);
  });
  it('treats prototype names as unknown keys', () => {
    const o = JSON.parse('{"__proto__": 1, "constructor": 2}');
    expect(() => checkKeys(o, allowed, 'o')).toThrow(InputError);
  });
});

describe('every options object of the public API rejects an unknown key, naming it and the nearest valid key', () => {  const x = new Float32Array(4 * 16).map((_, i) => (i % 7) / 7);
  const ae = { inputSize: 16, latentSize: 2 };
  const conv = { inputShape: [1, 4, 4] as [number, number, number], filters: [2], latentSize: 2 };
  const vae = { inputSize: 16, hidden: [4], latentSize: 2 };
  const dense = (extra: object) => ({ layers: { encoder: [{ type: 'dense', units: 2, activation: 'linear', ...extra }], decoder: [{ type: 'dense', units: 16, activation: 'sigmoid' }] } });
  const convLayers = (spec: object) => ({
    inputShape: [1, 4, 4],
    layers: { encoder: [spec, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'linear' }], decoder: [{ type: 'dense', units: 16, activation: 'sigmoid' }] },
  });
  const idx = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 7]);
  const model = new Autoencoder({ ...ae, seed: 1 });
  const v = new VAE({ ...vae, seed: 1 });
  // [what, a call with one misspelt key, the key, the suggestion]
  const cases: [string, () => unknown, string, string][] = [
    ['Autoencoder config', () => new Autoencoder({ ...ae, hiddenLayers: [8] } as never), 'hiddenLayers', 'hidden'],
    ['DenoisingAutoencoder config', () => new DenoisingAutoencoder({ ...ae, noise: { type: 'mask', p: 0.1 }, sed: 1 } as never), 'sed', 'seed'],
    ['SparseAutoencoder config', () => new SparseAutoencoder({ ...ae, sparsity: { l1: 0.1 }, latent_size: 2 } as never), 'latent_size', 'latentSize'],
    ['VAE config', () => new VAE({ ...vae, betta: 2 } as never), 'betta', 'beta'],
    ['ConvAutoencoder config', () => new ConvAutoencoder({ ...conv, filter: [4] } as never), 'filter', 'filters'],
    ['noise (gaussian)', () => new Autoencoder({ ...ae, noise: { type: 'gaussian', std: 0.1, clips: [0, 1] } } as never), 'clips', 'clip'],
    ['noise (mask)', () => new Autoencoder({ ...ae, noise: { type: 'mask', P: 0.1 } } as never), 'P', 'p'],
    ['noise (saltPepper)', () => new Autoencoder({ ...ae, noise: { type: 'saltPepper', p: 0.1, hi: 1 } } as never), 'hi', 'high'],
    ['sparsity', () => new Autoencoder({ ...ae, sparsity: { l1: 0.1, l2: 0.1 } } as never), 'l2', 'l1'],
    ['sparsity.kl', () => new Autoencoder({ ...ae, latentActivation: 'sigmoid', sparsity: { kl: { target: 0.1, weigth: 1 } } } as never), 'weigth', 'weight'],
    ['activation', () => new Autoencoder({ ...ae, activation: { type: 'leakyRelu', alpa: 0.1 } } as never), 'alpa', 'alpha'],
    ['layers', () => new Autoencoder({ inputSize: 16, layers: { encoder: [], decoders: [] } } as never), 'decoders', 'decoder'],
    ['layers (VAE)', () => new VAE({ ...vae, layers: { encoders: [], decoder: [] } } as never), 'encoders', 'encoder'],
    ['dense layer spec', () => new Autoencoder({ inputSize: 16, ...dense({ unit: 3 }) } as never), 'unit', 'units'],
    ['dropout layer spec', () => new Autoencoder({ inputSize: 16, ...dense({}), layers: { encoder: [{ type: 'dropout', rat: 0.1 }, { type: 'dense', units: 2, activation: 'linear' }], decoder: [{ type: 'dense', units: 16, activation: 'sigmoid' }] } } as never), 'rat', 'rate'],
    ['conv2d layer spec', () => new Autoencoder(convLayers({ type: 'conv2d', filters: 2, kernelSize: 3, strides: 2 }) as never), 'strides', 'stride'],
    ['convTranspose2d layer spec', () => new Autoencoder(convLayers({ type: 'convTranspose2d', filters: 1, kernelSize: 1, output_padding: 0 }) as never), 'output_padding', 'outputPadding'],
    ['maxPool2d layer spec', () => new Autoencoder(convLayers({ type: 'maxPool2d', kernelSize: 2, pading: 0 }) as never), 'pading', 'padding'],
    ['upsample layer spec', () => new Autoencoder(convLayers({ type: 'upsample', scale: 2, mod: 'nearest' }) as never), 'mod', 'mode'],
    ['reshape layer spec', () => new Autoencoder(convLayers({ type: 'reshape', shape: [16], shap: 1 }) as never), 'shap', 'shape'],
    ['flatten layer spec', () => new Autoencoder(convLayers({ type: 'flatten', dims: 1 }) as never), 'dims', undefined as never],
    ['optimizer', () => new Autoencoder({ ...ae, optimizer: { type: 'adam', learning_rate: 0.1 } } as never), 'learning_rate', 'learningRate'],
    ['init options', () => init({ simdd: 'strict' } as never), 'simdd', 'simd'],
    ['readIdx options', () => readIdx(idx, { maxByte: 10 } as never), 'maxByte', 'maxBytes'],
    ['idxToFloat32 options', () => idxToFloat32({ type: 'ubyte', shape: [1], data: new Uint8Array(1) }, { scal: 1 } as never), 'scal', 'scale'],
    ['save options', () => model.save({ optimiser: true } as never), 'optimiser', 'optimizer'],
    ['encode options', () => v.encode(x, { logvar: true } as never), 'logvar', 'logVar'],
    ['sample options', () => v.sample(1, { seeds: 1 } as never), 'seeds', 'seed'],
    ['fit options', () => model.fit(x, { batch_size: 2 } as never), 'batch_size', 'batchSize'],
    ['fit options (VAE)', () => v.fit(x, { epoch: 2 } as never), 'epoch', 'epochs'],
    ['earlyStopping', () => model.fit(x, { earlyStopping: { patients: 2 } } as never), 'patients', 'patience'],
    ['learningRateSchedule (step)', () => model.fit(x, { learningRateSchedule: { type: 'step', stepSize: 1, gama: 0.5 } } as never), 'gama', 'gamma'],
    ['learningRateSchedule (exponential)', () => model.fit(x, { learningRateSchedule: { type: 'exponential', gamma: 0.5, stepSize: 1 } } as never), 'stepSize', undefined as never],
    ['learningRateSchedule (cosine)', () => model.fit(x, { learningRateSchedule: { type: 'cosine', tMax: 3, etamin: 0 } } as never), 'etamin', 'etaMin'],
    ['learningRateSchedule (reduceOnPlateau)', () => model.fit(x, { learningRateSchedule: { type: 'reduceOnPlateau', min_lr: 0 } } as never), 'min_lr', 'minLr'],
  ];
  test.each(cases)('%s', async (_, call, key, near) => {
    const live = liveTensors();
    const before = model.getWeights();
    const message = await errorMessage(call, InputError);
    expect(message).toContain(`.${key} is not an option; `);
    if (near) expect(message).toContain(`did you mean '${near}'?`);
    else expect(message).not.toContain('did you mean');
    expect(liveTensors()).toBe(live);
    expect(model.getWeights()).toEqual(before);
  });
});
