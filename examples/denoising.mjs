// Denoising autoencoder on MNIST (docs/quality.md, R5): trained on x + N(0, 0.3²) clipped to [0, 1],
// against the clean digits. Noise is drawn per batch inside WASM from the model's seed.
//   npm run build && node examples/denoising.mjs [--epochs 10]
import { DenoisingAutoencoder, init } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 10);
const { train, test } = loadMnist();
await init();
const dae = new DenoisingAutoencoder({
  inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu',
  outputActivation: 'sigmoid', loss: 'bce', optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
  noise: { type: 'gaussian', std: 0.3 }, // or { type: 'mask', p: 0.3 } | { type: 'saltPepper', p: 0.1 }
});
await dae.fit(train, { epochs, batchSize: 64, onEpochEnd: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(5)}`) });

// corrupt the held-out digits the same way (with a JS generator, independent of the model's)
let s = 12345;
const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
const noisy = test.map((v) => Math.min(1, Math.max(0, v + 0.3 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()))));
const mse = (a, b) => a.reduce((acc, v, i) => acc + (v - b[i]) ** 2, 0) / a.length;
console.log(`noisy held-out digits vs clean: MSE ${mse(noisy, test).toFixed(5)}`);
console.log(`denoised vs clean:              MSE ${mse(dae.denoise(noisy), test).toFixed(5)} (PyTorch R5: 0.01952)`);
dae.dispose();
