// Seed 001's Keras example (docs/quality.md, R2): 784-32-784, ReLU code, sigmoid output, BCE,
// Adadelta (lr 1.0, ρ 0.95, ε 1e-6), batch 256, 50 epochs.
//   npm run build && node examples/seed-001-keras.mjs [--epochs 50]
import { Autoencoder, init } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 50);
const { train, test } = loadMnist();
await init();
const ae = new Autoencoder({
  inputSize: 784, latentSize: 32, latentActivation: 'relu', outputActivation: 'sigmoid', loss: 'bce',
  optimizer: { type: 'adadelta', learningRate: 1, rho: 0.95, epsilon: 1e-6 }, seed: 0,
});
await ae.fit(train, { epochs, batchSize: 256, validationData: test,
  onEpochEnd: (e) => { if (e.epoch % 10 === 0) console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, val ${e.valLoss.toFixed(4)}`); } });
console.log(`held-out MSE ${ae.evaluate(test).mse.toFixed(5)} (PyTorch R2: 0.03904)`);
ae.dispose();
