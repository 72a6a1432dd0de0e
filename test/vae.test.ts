// The VAE's and the family's public surface: kinds, configs that rebuild the model, PyTorch
// names, encode/decode/sample/interpolate shapes, seeds, typed errors that leave the model
// untouched, and memory. Quality on real digits is in vae-mnist.test.ts and family-mnist.test.ts.
import { describe, expect, test } from 'vitest';
import { Autoencoder, DenoisingAutoencoder, DisposedError, InputError, ShapeError, SparseAutoencoder, VAE, init, liveTensors } from '../src/index.js';
import { randomArray } from './helpers/reference.js';

await init();

const W = 10;
const data = (rows: number, seed = 1) => randomArray(rows * W, seed, 0, 1);
const same = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k].every((v, i) => Object.is(v, b[k][i])));

describe('VAE', () => {
  test('names, kind, config round trip and shapes', async () => {
    const start = liveTensors();
    const vae = new VAE({ inputSize: W, hidden: [6], latentSize: 2, seed: 3 });
    expect(vae.kind).toBe('vae');
    expect(Object.keys(vae.getWeights())).toEqual(['encoder.0.weight', 'encoder.0.bias', 'mu.weight', 'mu.bias',
      'logvar.weight', 'logvar.bias', 'decoder.0.weight', 'decoder.0.bias', 'decoder.2.weight', 'decoder.2.bias']);
    expect(vae.params().find((p) => p.name === 'mu.weight')!.shape).toEqual([2, 6]);
    const twin = new VAE(JSON.parse(JSON.stringify(vae.config)));
    expect(same(twin.getWeights(), vae.getWeights())).toBe(true);
    const x = data(30);
    await vae.fit(x, { epochs: 2, batchSize: 8 });
    await twin.fit(x, { epochs: 2, batchSize: 8 });
    expect(same(twin.getWeights(), vae.getWeights())).toBe(true);
    const mu = vae.encode(x);
    expect(mu.length).toBe(60);
    const both = vae.encode(x, { logVar: true });
    expect(both.mu).toEqual(mu);
    expect(both.logVar.length).toBe(60);
    expect(vae.decode(mu).length).toBe(30 * W);
    expect(vae.reconstruct(x)).toEqual(vae.decode(mu));
    expect(vae.reconstructionError(x).length).toBe(30);
    const ev = vae.evaluate(x);
    expect(ev.negElbo).toBeCloseTo(ev.reconstruction + ev.kl, 9);
    twin.dispose();
    vae.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('sample with a seed is repeatable and leaves the model generator alone; interpolate runs from a to b', () => {
    const vae = new VAE({ inputSize: W, hidden: [6], latentSize: 2, seed: 3 });
    const state = vae.rng.getState();
    const s1 = vae.sample(5, { seed: 9 });
    expect(s1.length).toBe(5 * W);
    expect(vae.sample(5, { seed: 9 })).toEqual(s1);
    expect(vae.sample(5, { seed: 10 })).not.toEqual(s1);
    expect(vae.rng.getState()).toEqual(state);
    vae.sample(2); // without a seed: the model's generator
    expect(vae.rng.getState()).not.toEqual(state);
    const x = data(2, 5);
    const path = vae.interpolate(x.subarray(0, W), Array.from(x.subarray(W)), 4);
    expect(path.length).toBe(4 * W);
    const ends = vae.reconstruct(x);
    expect(path.subarray(0, W)).toEqual(ends.subarray(0, W));
    // the last point is μ(b) up to the rounding of μ(a) + 1·(μ(b) − μ(a))
    const end = ends.subarray(W);
    path.subarray(3 * W).forEach((v, i) => expect(v).toBeCloseTo(end[i], 5));
    vae.dispose();
  });

  test('KL warm-up: β rises linearly over klWarmupSteps', async () => {
    const vae = new VAE({ inputSize: W, hidden: [4], latentSize: 2, beta: 2, klWarmupSteps: 4 });
    const betas: number[] = [];
    await vae.fit(data(48), { epochs: 1, batchSize: 8, onBatchEnd: (b) => void betas.push((b.loss - b.reconstruction) / b.kl) });
    betas.forEach((b, i) => expect(b).toBeCloseTo(2 * Math.min(1, (i + 1) / 4), 6));
    expect(vae.currentBeta).toBe(2);
    vae.dispose();
  });

  test('bad input: typed errors naming the argument; the model untouched', async () => {
    const vae = new VAE({ inputSize: W, hidden: [4], latentSize: 2 });
    const before = vae.getWeights();
    expect(() => vae.encode(new Float32Array(W + 1))).toThrow(ShapeError);
    expect(() => vae.decode(new Float32Array(3))).toThrow(/z has 3 values/);
    expect(() => vae.sample(0)).toThrow(/n must be an integer ≥ 1/);
    expect(() => vae.sample(2, { seed: -1 })).toThrow(/seed must be a non-negative safe integer/);
    expect(() => vae.interpolate(data(2), data(1), 3)).toThrow(/a must be one row/);
    expect(() => vae.interpolate(data(1), data(1), 1)).toThrow(/steps must be an integer ≥ 2/);
    expect(same(before, vae.getWeights())).toBe(true);
    for (const [patch, msg] of [
      [{ beta: -1 }, /beta must be a finite number/],
      [{ loss: 'l1' }, /VAE's loss must be 'bce' or 'mse'/],
      [{ latentSize: 0 }, /latentSize must be an integer ≥ 1/],
      [{ layers: { encoder: [], decoder: [{ type: 'dense', units: 3, activation: 'sigmoid' }] } }, /layers.decoder must end with 10 units/],
    ] as const) {
      const live = liveTensors();
      expect(() => new VAE({ inputSize: W, latentSize: 2, ...patch } as never)).toThrow(InputError);
      expect(() => new VAE({ inputSize: W, latentSize: 2, ...patch } as never)).toThrow(msg);
      expect(liveTensors()).toBe(live);
    }
    vae.dispose();
    expect(() => vae.sample(1)).toThrow(DisposedError);
  });
});

describe('denoising and sparse options', () => {
  test('kinds, configs that rebuild the model, and config errors', () => {
    const start = liveTensors();
    const dae = new DenoisingAutoencoder({ inputSize: W, latentSize: 3, noise: { type: 'saltPepper', p: 0.2 } });
    expect(dae.kind).toBe('denoisingAutoencoder');
    expect(dae.config.noise).toEqual({ type: 'saltPepper', p: 0.2, low: 0, high: 1 });
    const again = new DenoisingAutoencoder(JSON.parse(JSON.stringify(dae.config)));
    expect(same(again.getWeights(), dae.getWeights())).toBe(true);
    expect(dae.denoise(data(3))).toEqual(dae.reconstruct(data(3)));
    const sae = new SparseAutoencoder({ inputSize: W, latentSize: 3, latentActivation: 'sigmoid', sparsity: { kl: { target: 0.05, weight: 3 } } });
    expect(sae.kind).toBe('sparseAutoencoder');
    const plain = new Autoencoder({ inputSize: W, latentSize: 3 });
    expect(plain.kind).toBe('autoencoder');
    plain.dispose();
    for (const [make, msg] of [
      [() => new DenoisingAutoencoder({ inputSize: W, latentSize: 3 } as never), /needs noise/],
      [() => new DenoisingAutoencoder({ inputSize: W, latentSize: 3, noise: { type: 'blur' } } as never), /noise.type must be one of gaussian, mask, saltPepper/],
      [() => new DenoisingAutoencoder({ inputSize: W, latentSize: 3, noise: { type: 'mask', p: 2 } }), /noise.p must be a finite number in \[0, 1\]/],
      [() => new SparseAutoencoder({ inputSize: W, latentSize: 3, sparsity: { kl: { target: 0.05, weight: 3 } } }), /sparsity.kl needs a sigmoid code/],
      [() => new SparseAutoencoder({ inputSize: W, latentSize: 3, sparsity: { l2: 1 } } as never), /sparsity must be/],
    ] as const) {
      expect(make).toThrow(InputError);
      expect(make).toThrow(msg);
    }
    for (const m of [dae, again, sae]) m.dispose();
    expect(liveTensors()).toBe(start);
  });
});
