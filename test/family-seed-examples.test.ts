// The seed literature's examples on the project's MNIST split (examples/mnist-split.js; docs/quality.md):
// R2, seed 001's Keras autoencoder, and R3, seed 003's PyTorch autoencoder with MSE loss.
// examples/seed-001-keras.mjs and examples/seed-003-pytorch.mjs run the same setups.
import { expect, test } from 'vitest';
import { Autoencoder, init, liveTensors } from '../src/index.js';
import { mnist } from './helpers/mnist.js';

await init();

// Measured here, 50 epochs: seed 0 0.03953 (init 'pytorch': 0.03964); seeds 1, 2, 3: 0.03903,
// 0.03968, 0.03838 — mean of the four 0.03916, against PyTorch's single run 0.03904. The seed
// spread (±1.7%) is larger than the gap, so this pins parity rather than a win: the bound is
// PyTorch's figure plus that spread (2.5%), and seed 0 stays 1.3% above PyTorch's own seed.
const R2_BOUND = 0.04;

test('R2: 784-32-784 (ReLU, sigmoid, BCE), Adadelta lr 1 ρ 0.95 ε 1e-6, batch 256, 50 epochs: held-out MSE near PyTorch 0.03904', async () => {
  const { train, test: held } = mnist();
  const start = liveTensors();
  const ae = new Autoencoder({
    inputSize: 784, latentSize: 32, latentActivation: 'relu', outputActivation: 'sigmoid', loss: 'bce',
    optimizer: { type: 'adadelta', learningRate: 1, rho: 0.95, epsilon: 1e-6 }, seed: 0,
  });
  await ae.fit(train, { epochs: 50, batchSize: 256 });
  const { mse } = ae.evaluate(held);
  // eslint-disable-next-line no-console
  console.log(`R2 held-out MSE ${mse.toFixed(5)} (PyTorch 0.03904, still improving at 50 epochs)`);
  expect(mse).toBeLessThanOrEqual(R2_BOUND);
  ae.dispose();
  expect(liveTensors()).toBe(start);
});

test('R3: 784-512-256-32-256-512-784 (ReLU, sigmoid, MSE loss), Adam 1e-3, batch 64: PyTorch\'s 20-epoch MSE 0.01302 within 8 epochs', async () => {
  const { train, test: held } = mnist();
  const start = liveTensors();
  const ae = new Autoencoder({
    inputSize: 784, hidden: [512, 256], latentSize: 32, activation: 'relu', outputActivation: 'sigmoid', loss: 'mse',
    optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
  });
  await ae.fit(train, { epochs: 8, batchSize: 64 });
  const { mse } = ae.evaluate(held);
  // eslint-disable-next-line no-console
  console.log(`R3 held-out MSE after 8 epochs ${mse.toFixed(5)} (PyTorch after 20: 0.01302)`);
  expect(mse).toBeLessThanOrEqual(0.01302);
  ae.dispose();
  expect(liveTensors()).toBe(start);
});
