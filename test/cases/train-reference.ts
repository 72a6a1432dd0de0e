// One fixed training run, executed both in Chromium and in Node, to prove the engines agree
// bit for bit (test/cross-engine.browser.test.ts).
import { Autoencoder, init } from '../../src/index.js';

export interface ReferenceRun {
  /** The reconstructions' f32 bit patterns. */
  bits: number[];
  /** FNV-1a over every weight's bits. */
  weightsHash: string;
  loss: number[];
}

/** Trains a small autoencoder (seed 9) on 512 training digits and reconstructs 32 test digits. */
export async function trainReference(train: Float32Array, test: Float32Array): Promise<ReferenceRun> {
  await init();
  const ae = new Autoencoder({
    inputSize: 784, hidden: [64], latentSize: 16, activation: 'gelu', latentActivation: 'tanh', seed: 9,
  });
  try {
    // a spread of digits: every 15th training row
    const rows = new Float32Array(512 * 784);
    for (let i = 0; i < 512; i++) rows.set(train.subarray(i * 15 * 784, (i * 15 + 1) * 784), i * 784);
    const h = await ae.fit(rows, { epochs: 2, batchSize: 32 });
    const r = ae.reconstruct(test.subarray(0, 32 * 784));
    let hash = 0x811c9dc5;
    for (const w of Object.values(ae.getWeights())) {
      for (const v of new Uint32Array(w.buffer, w.byteOffset, w.length)) hash = Math.imul(hash ^ v, 0x01000193) >>> 0;
    }
    return { bits: Array.from(new Uint32Array(r.buffer)), weightsHash: hash.toString(16), loss: h.loss };
  } finally {
    ae.dispose();
  }
}
