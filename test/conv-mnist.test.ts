// The ConvAutoencoder of docs/models.md on the project's MNIST split (examples/mnist-split.js; docs/quality.md), side by
// side with the dense 784-256-64-256-784 model of mnist.test.ts in the same run: same loss (BCE),
// optimizer (Adam 1e-3), batch 64, shuffling, seed and epochs; held-out per-pixel MSE.
import { expect, test } from 'vitest';
import { Autoencoder, ConvAutoencoder, init, liveTensors } from '../src/index.js';
import { mnist } from './helpers/mnist.js';

await init();

const EPOCHS = 5;
const count = (m: { getWeights(): Record<string, Float32Array> }) => Object.values(m.getWeights()).reduce((s, v) => s + v.length, 0);

test(`ConvAutoencoder [16, 32] → 64 beats the dense 784-256-64-256-784 on held-out MSE after ${EPOCHS} epochs, with fewer parameters`, async () => {
  const { train, test: held } = mnist();
  const start = liveTensors();
  const fitOptions = { epochs: EPOCHS, batchSize: 64, shuffle: true };
  const results: { name: string; params: number; mse: number; seconds: number }[] = [];
  const models: [string, () => Autoencoder | ConvAutoencoder][] = [
    ['dense 784-256-64-256-784', () => new Autoencoder({
      inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu',
      outputActivation: 'sigmoid', loss: 'bce', optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
    })],
    ['conv [16, 32] k3 s2 → 64', () => new ConvAutoencoder({
      inputShape: [1, 28, 28], filters: [16, 32], kernelSize: 3, stride: 2, latentSize: 64,
      activation: 'relu', outputActivation: 'sigmoid', loss: 'bce', optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
    })],
  ];
  for (const [name, make] of models) {
    const m = make();
    const t0 = performance.now();
    await m.fit(train, fitOptions);
    const seconds = (performance.now() - t0) / 1000;
    results.push({ name, params: count(m), mse: m.evaluate(held).mse, seconds });
    m.dispose();
  }
  // eslint-disable-next-line no-console
  console.log(results.map((r) => `${r.name}: ${r.params} parameters, held-out MSE ${r.mse.toFixed(5)}, fit ${r.seconds.toFixed(1)} s`).join('\n'));
  const [dense, conv] = results;
  expect(conv.params).toBeLessThan(dense.params);
  expect(conv.mse).toBeLessThanOrEqual(dense.mse);
  expect(conv.mse).toBeLessThan(0.0133); // the dense model's figure in mnist.test.ts
  expect(liveTensors()).toBe(start);
});
