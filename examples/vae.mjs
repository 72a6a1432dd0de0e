// Variational autoencoder on MNIST (docs/quality.md, R4): 784-400-(20 μ, 20 log σ²), 20-400-784,
// BCE summed over pixels + KL, Adam 1e-3, batch 128. Prints the held-out −ELBO, writes a few
// samples from the prior and an interpolation as PGM images to ./vae-out/.
//   npm run build && node examples/vae.mjs [--epochs 10] [--beta 1] [--warmup 0]
import { mkdirSync, writeFileSync } from 'node:fs';
import { VAE, init } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const epochs = flag('epochs', 10);
const { train, test } = loadMnist();
await init();
const vae = new VAE({
  inputSize: 784, hidden: [400], latentSize: 20, outputActivation: 'sigmoid', loss: 'bce',
  beta: flag('beta', 1), klWarmupSteps: flag('warmup', 0), optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
});
await vae.fit(train, {
  epochs, batchSize: 128, validationData: test,
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: −ELBO ${e.negElbo.toFixed(2)} (reconstruction ${e.reconstruction.toFixed(2)}, ` +
    `KL ${e.kl.toFixed(2)}); held-out −ELBO ${e.valNegElbo.toFixed(2)}`),
});
const ev = vae.evaluate(test);
console.log(`held-out −ELBO ${ev.negElbo.toFixed(2)} nats per sample (PyTorch R4: 124.24)`);
const { mu, logVar } = vae.encode(test.subarray(0, 784), { logVar: true });
console.log(`first test digit: μ[0..3] = ${Array.from(mu.subarray(0, 3), (v) => v.toFixed(3))}, σ²[0] = ${Math.exp(logVar[0]).toFixed(4)}`);

const pgm = (rows) => {
  const n = rows.length / 784;
  const img = new Uint8Array(28 * 28 * n);
  for (let k = 0; k < n; k++) for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) img[y * 28 * n + k * 28 + x] = Math.round(255 * rows[k * 784 + y * 28 + x]);
  return Buffer.concat([Buffer.from(`P5 ${28 * n} 28 255\n`), img]);
};
mkdirSync('vae-out', { recursive: true });
writeFileSync('vae-out/samples.pgm', pgm(vae.sample(10, { seed: 2 })));
writeFileSync('vae-out/interpolation.pgm', pgm(vae.interpolate(test.subarray(0, 784), test.subarray(-784), 10)));
console.log('wrote vae-out/samples.pgm and vae-out/interpolation.pgm');
vae.dispose();
