// int8 accuracy on MNIST (the fixed split of examples/mnist-split.js). The digit anomaly example
// (examples/anomaly-digits.mjs): the same model trained on every digit but 2, quantized per row
// ('dynamic') and with calibration rows ('static'), scores the held-out digits with an AUROC
// within 0.005 of the f32 model's and a held-out MSE within 2% (relative). A ConvAutoencoder:
// held-out MSE within 2%. Node only: the int8 path gives the same bits in every runtime
// (test/int8-model.test.ts, int8-conv.test.ts, workerd.runtime), so a second training in Chromium
// would measure nothing new.
import { expect, test } from 'vitest';
import { Autoencoder, ConvAutoencoder, init, liveTensors, rocAuc } from '../src/index.js';
import { meanSq, mnist, spread } from './helpers/mnist.js';

await init();

const ANOMALY = 2;
const W = 784;

/** The rows whose label passes `keep`, in order. */
function rowsWhere(x: Float32Array, labels: Uint8Array, keep: (l: number) => boolean): Float32Array {
  const idx = [...labels.keys()].filter((i) => keep(labels[i]));
  const out = new Float32Array(idx.length * W);
  idx.forEach((r, k) => out.set(x.subarray(r * W, (r + 1) * W), k * W));
  return out;
}

test(`digit ${ANOMALY} held out: int8 AUROC within 0.005 of f32, held-out MSE within 2%`, async () => {
  const { train, test: held, trainLabels, testLabels } = mnist();
  const normalTrain = rowsWhere(train, trainLabels, (l) => l !== ANOMALY);
  const isAnomaly = Uint8Array.from(testLabels, (l) => (l === ANOMALY ? 1 : 0));
  const start = liveTensors();
  // the example's model and training (5 epochs, seed 0)
  const ae = new Autoencoder({
    inputSize: W, hidden: [256], latentSize: 32, activation: 'relu', outputActivation: 'sigmoid', loss: 'bce',
    optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
  });
  await ae.fit(normalTrain, { epochs: 5, batchSize: 64 });
  const auc32 = rocAuc(ae.score(held), isAnomaly);
  const mse32 = meanSq(ae.reconstruct(held), held);
  // the detector works at all, so a gap of 0.005 is a real constraint (chance is 0.5)
  expect(auc32).toBeGreaterThan(0.9);

  const models = {
    dynamic: ae.quantize(),
    static: ae.quantize({ activations: 'static', calibration: spread(normalTrain, 1000) }),
  };
  const lines = [`f32: AUROC ${auc32.toFixed(4)}, held-out MSE ${mse32.toFixed(6)}`];
  for (const [name, q] of Object.entries(models)) {
    const auc8 = rocAuc(q.score(held), isAnomaly);
    const mse8 = meanSq(q.reconstruct(held), held);
    lines.push(`int8 ${name}: AUROC ${auc8.toFixed(4)} (Δ ${(auc8 - auc32).toFixed(5)}), MSE ${mse8.toFixed(6)} (${((mse8 / mse32 - 1) * 100).toFixed(2)}%)`);
    expect(Math.abs(auc8 - auc32), name).toBeLessThanOrEqual(0.005);
    expect(Math.abs(mse8 / mse32 - 1), name).toBeLessThanOrEqual(0.02);
    q.dispose();
  }
  // eslint-disable-next-line no-console
  console.log(lines.join('\n'));
  ae.dispose();
  expect(liveTensors()).toBe(start);
});

test('ConvAutoencoder (conv2d, dense code, convTranspose2d): int8 held-out MSE within 2% of f32', async () => {
  const { train, test: held } = mnist();
  const start = liveTensors();
  const conv = new ConvAutoencoder({
    inputShape: [1, 28, 28], filters: [16, 32], kernelSize: 3, stride: 2, latentSize: 64,
    activation: 'relu', outputActivation: 'sigmoid', loss: 'bce', seed: 0,
  });
  await conv.fit(train, { epochs: 3, batchSize: 64, shuffle: true });
  const mse32 = meanSq(conv.reconstruct(held), held);
  const lines = [`conv f32: held-out MSE ${mse32.toFixed(6)}`];
  for (const q of [conv.quantize(), conv.quantize({ activations: 'static', calibration: spread(train, 1000) })]) {
    expect(q.config.encoder.map((l) => l.type ?? 'dense')).toEqual(['conv2d', 'conv2d', 'dense']);
    const mse8 = meanSq(q.reconstruct(held), held);
    lines.push(`conv int8 ${q.config.activations}: MSE ${mse8.toFixed(6)} (${((mse8 / mse32 - 1) * 100).toFixed(2)}%)`);
    expect(Math.abs(mse8 / mse32 - 1), q.config.activations).toBeLessThanOrEqual(0.02);
    q.dispose();
  }
  // eslint-disable-next-line no-console
  console.log(lines.join('\n'));
  conv.dispose();
  expect(liveTensors()).toBe(start);
});
