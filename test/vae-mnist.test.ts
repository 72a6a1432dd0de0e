// The VAE on the project's MNIST split (docs/quality.md, R4): 784-400-(20 μ, 20 log σ²),
// 20-400-784 sigmoid, BCE summed over pixels + KL, Adam 1e-3, batch 128, 10 epochs. PyTorch 1.13
// reaches a held-out −ELBO of 124.24 nats per sample (ε sampled); the bound is 128.
import { expect, test } from 'vitest';
import { VAE, init, liveTensors } from '../src/index.js';
import { mnist } from './helpers/mnist.js';

await init();

test('VAE 784-400-20 (Adam 1e-3, batch 128, 10 epochs): held-out −ELBO ≤ 128 nats per sample', async () => {
  const { train, test: held } = mnist();
  const start = liveTensors();
  const vae = new VAE({
    inputSize: 784, hidden: [400], latentSize: 20, outputActivation: 'sigmoid', loss: 'bce', beta: 1,
    optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
  });
  const h = await vae.fit(train, { epochs: 10, batchSize: 128, shuffle: true });
  const ev = vae.evaluate(held);
  // eslint-disable-next-line no-console
  console.log(`VAE held-out −ELBO ${ev.negElbo.toFixed(2)} (reconstruction ${ev.reconstruction.toFixed(2)}, KL ${ev.kl.toFixed(2)}); ` +
    `train −ELBO by epoch ${h.metrics.negElbo.map((v) => v.toFixed(1)).join(' ')}`);
  expect(ev.negElbo).toBeLessThanOrEqual(128);
  expect(ev.negElbo).toBeCloseTo(ev.reconstruction + ev.kl, 6);
  expect(ev.loss).toBeCloseTo(ev.negElbo, 6); // β = 1
  expect(ev.kl).toBeGreaterThan(5); // the code is used, not collapsed onto the prior
  // the history reports the three terms separately, one value per epoch, decreasing overall
  expect(h.metrics.reconstruction.length).toBe(10);
  expect(h.metrics.kl.length).toBe(10);
  expect(h.metrics.negElbo[9]).toBeLessThan(h.metrics.negElbo[0]);
  // evaluation is repeatable (its ε stream restarts) and does not disturb the model
  expect(vae.evaluate(held.subarray(0, 50 * 784)).negElbo).toBe(vae.evaluate(held.subarray(0, 50 * 784)).negElbo);
  // samples from the prior are images in [0, 1]
  const s = vae.sample(8, { seed: 1 });
  expect(s.length).toBe(8 * 784);
  expect(s.every((v) => v >= 0 && v <= 1)).toBe(true);
  vae.dispose();
  expect(liveTensors()).toBe(start);
});
