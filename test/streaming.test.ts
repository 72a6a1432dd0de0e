// fit(source): iterables, async iterables and functions returning a fresh one per epoch, regrouped
// into batches so that, in the same order, the weights equal the array fit's bit for bit; the
// seeded shuffle buffer; validation and normalizer fitting from sources; typed errors that leave
// the weights of the last good step. Node and Chromium (the memory bound is a Node test).
import { describe, expect, test } from 'vitest';
import { Autoencoder, VAE, InputError, ShapeError, init, liveTensors, type AutoencoderConfig, type Matrix } from '../src/index.js';
import { shuffled } from '../src/train/source.js';
import { randomArray } from './helpers/reference.js';

await init();

const W = 10;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const cfg: AutoencoderConfig = { inputSize: W, hidden: [8], latentSize: 3, seed: 4, outputActivation: 'linear', loss: 'mse', optimizer: { type: 'adam', learningRate: 0.01 } };
const x = randomArray(203 * W, 1, 0, 1);
const v = randomArray(45 * W, 2, 0, 1);

/** x's rows in uneven batches (7, 13, 1, 30, 7, 13, ...), alternating Float32Array and number[][]. */
function* uneven(data: Float32Array): Generator<Matrix> {
  const sizes = [7, 13, 1, 30];
  let k = 0;
  for (let r = 0; r < data.length / W; ) {
    const n = Math.min(sizes[k % 4], data.length / W - r);
    const part = data.slice(r * W, (r + n) * W);
    yield k % 2 ? part : Array.from({ length: n }, (_, i) => Array.from(part.subarray(i * W, i * W + W)));
    r += n;
    k++;
  }
}

async function* slowly(data: Float32Array): AsyncGenerator<Matrix> {
  for (const b of uneven(data)) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    yield b;
  }
}

function expectSameWeights(a: Autoencoder | VAE, b: Autoencoder | VAE) {
  const wa = a.getWeights();
  const wb = b.getWeights();
  for (const k of Object.keys(wa)) expect(bits(wb[k]), k).toEqual(bits(wa[k]));
}

describe('fit(source)', () => {
  test('same rows, same order, no shuffling: the array fit bit for bit (weights, losses, validation, normalizer)', async () => {
    for (const normalize of ['none', 'standard'] as const) {
      const a = new Autoencoder({ ...cfg, normalize });
      const ha = await a.fit(x, { epochs: 3, batchSize: 32, shuffle: false, validationData: v });
      const b = new Autoencoder({ ...cfg, normalize });
      const hb = await b.fit(() => uneven(x), { epochs: 3, batchSize: 32, validationData: () => slowly(v) });
      expectSameWeights(a, b);
      expect(hb.loss).toEqual(ha.loss);
      expect(hb.valLoss).toEqual(ha.valLoss);
      if (normalize === 'standard') {
        expect(bits(b.normalizer!.shift)).toEqual(bits(a.normalizer!.shift));
        expect(bits(b.normalizer!.scale)).toEqual(bits(a.normalizer!.scale));
      }
      a.dispose();
      b.dispose();
    }
    // a VAE with its metrics, from an async iterable read once
    const vc = { inputSize: W, hidden: [6], latentSize: 2, seed: 1 };
    const a = new VAE(vc);
    const ha = await a.fit(x, { epochs: 1, batchSize: 16, shuffle: false, validationData: v });
    const b = new VAE(vc);
    const hb = await b.fit(slowly(x), { batchSize: 16, validationData: v });
    expectSameWeights(a, b);
    expect(hb.metrics).toEqual(ha.metrics);
    a.dispose();
    b.dispose();
  });

  test('the shuffle buffer: seeded (same bits twice), a permutation of the rows, each row out at most `capacity` places early', async () => {
    const run = async () => {
      const m = new Autoencoder(cfg);
      await m.fit(() => uneven(x), { epochs: 2, batchSize: 32, shuffleBuffer: 50 });
      return m;
    };
    const [a, b] = [await run(), await run()];
    expectSameWeights(a, b);
    const plain = new Autoencoder(cfg);
    await plain.fit(() => uneven(x), { epochs: 2, batchSize: 32 });
    expect(bits(plain.getWeights()['encoder.0.weight'])).not.toEqual(bits(a.getWeights()['encoder.0.weight']));
    // the order itself: rows tagged by their index
    const rows = 500;
    const tagged = Float32Array.from({ length: rows * W }, (_, i) => Math.floor(i / W));
    async function* chunks() {
      for (let r = 0; r < rows; r += 37) {
        const n = Math.min(37, rows - r);
        yield { data: tagged.subarray(r * W, (r + n) * W), rows: n, width: W };
      }
    }
    for (const capacity of [1, 20, 499, 800]) {
      const seen: number[] = [];
      for await (const c of shuffled(chunks(), capacity, 32, W, a.arena, a.rng)) {
        expect(c.rows).toBeLessThanOrEqual(32);
        for (let i = 0; i < c.rows; i++) {
          // whole rows move together
          expect(Array.from(c.data.subarray(i * W, i * W + W))).toEqual(new Array(W).fill(c.data[i * W]));
          seen.push(c.data[i * W]);
        }
      }
      expect([...seen].sort((p, q) => p - q)).toEqual(Array.from({ length: rows }, (_, i) => i));
      // position i is filled from the rows read so far: at most i + capacity
      seen.forEach((row, i) => expect(row).toBeLessThanOrEqual(i + capacity));
      if (capacity > 1) expect(seen).not.toEqual([...seen].sort((p, q) => p - q));
    }
    for (const m of [a, b, plain]) m.dispose();
  });

  test('a batch of the wrong width stops fit with a ShapeError naming it; the weights are those of the last good step', async () => {
    const m = new Autoencoder(cfg);
    let last: Record<string, Float32Array> = {};
    function* bad() {
      yield x.subarray(0, 64 * W);
      yield x.subarray(64 * W, 100 * W);
      yield [[1, 2, 3]];
    }
    await expect(m.fit(bad(), { batchSize: 32, onBatchEnd: () => void (last = m.getWeights()) })).rejects.toThrow(ShapeError);
    expect(m.optimizer.step).toBe(3); // 100 rows: three full batches; the 4 rows left never trained
    for (const k of Object.keys(last)) expect(bits(m.getWeights()[k])).toEqual(bits(last[k]));
    await expect(m.fit(bad(), { batchSize: 32 })).rejects.toThrow(/x batch 2\[0\] has 3 values; expected 10/);
    m.dispose();
  });

  test('bad sources and options are InputErrors naming what to do', async () => {
    const live = liveTensors();
    const m = new Autoencoder(cfg);
    await expect(m.fit(uneven(x), { epochs: 2 })).rejects.toThrow(/epochs 2 needs x to be a function returning a fresh iterable/);
    await expect(m.fit(uneven(x), { validationData: uneven(v), epochs: 2 })).rejects.toThrow(InputError);
    await expect(m.fit(() => uneven(x), { validationData: uneven(v), epochs: 2 })).rejects.toThrow(/needs validationData to be a function/);
    await expect(m.fit(() => uneven(x), { validationSplit: 0.2 })).rejects.toThrow(/validationSplit needs x as an array/);
    await expect(m.fit(() => uneven(x), { shuffle: true })).rejects.toThrow(/give shuffleBuffer/);
    await expect(m.fit(x, { shuffleBuffer: 10 })).rejects.toThrow(/shuffleBuffer is for streaming sources/);
    await expect(m.fit(() => 5 as never)).rejects.toThrow(/it returned 5/);
    await expect(m.fit(() => [][Symbol.iterator]())).rejects.toThrow(/x gave no rows in epoch 1/);
    const n = new Autoencoder({ ...cfg, normalize: 'standard' });
    await expect(n.fit(uneven(x))).rejects.toThrow(/fitting the normalizer takes a pass over x/);
    expect(n.normalizer).toBeNull();
    n.fitNormalizer(x);
    await n.fit(uneven(x)); // fitted already: one pass is enough
    expect(m.optimizer.step).toBe(0);
    m.dispose();
    n.dispose();
    expect(liveTensors()).toBe(live);
  });
});
