// Defect 2: a ConvAutoencoder with `noise` is a denoising model and one with `sparsity` a sparse
// one (the options used to be dropped silently). Three conv models of one architecture and seed
// train on the same 2,000 MNIST digits (examples/mnist-split.js); on 300 held-out digits the
// denoising one restores noisy digits well below the noisy input's error, and the sparse one has
// more near-zero codes than the plain one while still reconstructing. (That the noise reaches
// training at all is also checked bit-wise in conv-autoencoder.test.ts.)
import { expect, test } from 'vitest';
import { ConvAutoencoder, init, liveTensors, type ConvAutoencoderConfig } from '../src/index.js';
import { mnist } from './helpers/mnist.js';

await init();

const STD = 0.4;
/** Held-out digits plus N(0, 0.4²) noise clipped to [0, 1], drawn here (Box–Muller on an LCG),
 *  independently of the core's generator. */
function noisy(x: Float32Array): Float32Array {
  let s = 12345;
  const u = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return x.map((v) => Math.min(1, Math.max(0, v + STD * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()))));
}
const mse = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => m + (v - b[i]) ** 2, 0) / a.length;
const nearZero = (z: Float32Array) => z.filter((v) => Math.abs(v) < 0.01).length / z.length;

test('denoising and sparse ConvAutoencoders on MNIST: noise and sparsity act', async () => {
  const { train, test: held } = mnist();
  const tr = train.subarray(0, 2000 * 784);
  const clean = held.subarray(0, 300 * 784);
  const corrupted = noisy(clean);
  const start = liveTensors();
  const base: ConvAutoencoderConfig = {
    inputShape: [1, 28, 28], filters: [8, 16], latentSize: 32, seed: 1,
    optimizer: { type: 'adam', learningRate: 3e-3 },
  };
  const variants: [string, Partial<ConvAutoencoderConfig>][] = [
    ['denoising', { noise: { type: 'gaussian', std: STD } }],
    // relu codes: exact zeros to count, with and without the L1 penalty
    ['plain', { latentActivation: 'relu' }],
    ['sparse', { latentActivation: 'relu', sparsity: { l1: 0.003 } }],
  ];
  const r: Record<string, { restored: number; clean: number; zeros: number; metrics: string[] }> = {};
  for (const [name, extra] of variants) {
    const m = new ConvAutoencoder({ ...base, ...extra });
    const h = await m.fit(tr, { epochs: 4, batchSize: 32 });
    r[name] = { restored: mse(m.reconstruct(corrupted), clean), clean: mse(m.reconstruct(clean), clean), zeros: nearZero(m.encode(clean)), metrics: Object.keys(h.metrics) };
    m.dispose();
  }
  const noisyMse = mse(corrupted, clean);
  // eslint-disable-next-line no-console
  console.log(`noisy input MSE ${noisyMse.toFixed(4)}; ` + Object.entries(r).map(([k, v]) => `${k}: restored ${v.restored.toFixed(4)}, clean ${v.clean.toFixed(4)}, near-zero codes ${(100 * v.zeros).toFixed(1)}%`).join('; '));
  // seen: noisy 0.080; the denoising model restores to ≈ 0.03
  expect(r.denoising.restored).toBeLessThan(0.6 * noisyMse);
  // seen: ≈ 92% near-zero codes against ≈ 68% without the penalty, reconstructing at ≈ 0.047
  expect(r.sparse.metrics).toEqual(['reconstruction', 'penalty']);
  expect(r.sparse.zeros).toBeGreaterThan(r.plain.zeros + 0.1);
  expect(r.sparse.clean).toBeLessThan(0.06); // not collapsed: a constant code reconstructs at ≈ 0.075
  expect(liveTensors()).toBe(start);
});
