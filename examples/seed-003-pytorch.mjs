// Seed 003's PyTorch example (docs/quality.md, R3): 784-512-256-32-256-512-784, ReLU, sigmoid output,
// MSE loss, Adam 1e-3, batch 64, 20 epochs; with early stopping on a validation split as an option.
//   npm run build && node examples/seed-003-pytorch.mjs [--epochs 20]
import { Autoencoder, init } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 20);
const { train, test } = loadMnist();
await init();
const ae = new Autoencoder({
  inputSize: 784, hidden: [512, 256], latentSize: 32, activation: 'relu', outputActivation: 'sigmoid', loss: 'mse',
  optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
});
const h = await ae.fit(train, {
  epochs, batchSize: 64, validationSplit: 0.1,
  earlyStopping: { monitor: 'valLoss', patience: 3, restoreBestWeights: true },
  learningRateSchedule: { type: 'cosine', tMax: epochs, etaMin: 1e-5 },
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(5)}, val ${e.valLoss.toFixed(5)}, lr ${e.learningRate.toExponential(2)}`),
});
if (h.stoppedEpoch) console.log(`stopped early at epoch ${h.stoppedEpoch}; best epoch ${h.bestEpoch}`);
console.log(`held-out MSE ${ae.evaluate(test).mse.toFixed(5)} (PyTorch R3: 0.01302)`);
ae.dispose();
