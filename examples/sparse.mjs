// Sparse autoencoder on MNIST: an L1 penalty λ·mean|z| on the (ReLU) code, reported apart from
// the reconstruction loss; compared with the same model without it.
//   npm run build && node examples/sparse.mjs [--epochs 5] [--l1 0.003]
import { Autoencoder, SparseAutoencoder, init } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 5);
const l1 = flag('l1', 3e-3);
const { train, test } = loadMnist();
await init();
const card = {
  inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu',
  outputActivation: 'sigmoid', loss: 'bce', optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
};
for (const model of [new Autoencoder(card), new SparseAutoencoder({ ...card, sparsity: { l1 } })]) {
  // a sigmoid code with { kl: { target: 0.05, weight: 3 } } is the other sparsity option
  await model.fit(train, { epochs, batchSize: 64 });
  const z = model.encode(test);
  const near = z.filter((v) => Math.abs(v) < 1e-3).length / z.length;
  const ev = model.evaluate(test);
  console.log(`${model.kind}: held-out MSE ${ev.mse.toFixed(5)}, near-zero code values ${(100 * near).toFixed(1)}%` +
    (ev.penalty !== undefined ? `, reconstruction ${ev.reconstruction.toFixed(5)} + penalty ${ev.penalty.toFixed(5)}` : ''));
  model.dispose();
}
