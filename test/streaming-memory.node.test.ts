// 200 MB of rows generated on the fly stream through fit while the process's resident memory
// grows by less than 64 MB: fit holds one source batch, one regrouped batch and the staging
// buffer, never the data set.
import { expect, test } from 'vitest';
import { Autoencoder, init } from '../src/index.js';

await init();

test('200 MB streamed through fit: RSS grows by less than 64 MB', async () => {
  const W = 64;
  const ROWS_PER_BATCH = 1024;
  const BATCHES = Math.ceil((200 * 2 ** 20) / (W * 4 * ROWS_PER_BATCH)); // 800 batches of 256 KiB
  // integer xorshift rows: cheap to make, the same every run
  function* rows() {
    let s = 0x2545f491;
    for (let b = 0; b < BATCHES; b++) {
      const out = new Float32Array(ROWS_PER_BATCH * W);
      for (let i = 0; i < out.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        out[i] = (s >>> 24) / 256;
      }
      yield out;
    }
  }
  const model = new Autoencoder({ inputSize: W, latentSize: 4, seed: 1, normalize: 'minmax', outputActivation: 'linear', loss: 'mse' });
  await model.fit(rows().next().value!, { batchSize: 256 }); // warm up: buffers and compiled code
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let streamed = 0;
  await model.fit(rows(), {
    batchSize: 256,
    onBatchEnd: (l) => {
      streamed += l.size * W * 4;
      if (l.batch % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    },
  });
  peak = Math.max(peak, process.memoryUsage().rss);
  const grew = (peak - before) / 2 ** 20;
  console.log(`streamed ${(streamed / 2 ** 20).toFixed(0)} MiB; RSS grew by ${grew.toFixed(1)} MiB (peak over the start)`);
  expect(streamed).toBeGreaterThanOrEqual(200 * 2 ** 20);
  expect(grew).toBeLessThan(64);
  model.dispose();
}, 300_000);
