// The Autoencoder's public surface: shapes, input forms, errors that leave the model intact,
// callbacks, abort, determinism and leaks. Learning quality on real digits is in mnist.test.ts.
import { describe, expect, test } from 'vitest';
import {
  Autoencoder,
  DisposedError,
  InputError,
  ShapeError,
  TrainingError,
  init,
  liveTensors,
  type AutoencoderConfig,
} from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { randomArray } from './helpers/reference.js';

await init();

const W = 12;
const config: AutoencoderConfig = { inputSize: W, hidden: [8], latentSize: 3, seed: 5 };
const data = (rows: number, seed = 1) => randomArray(rows * W, seed, 0, 1);
const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);
const weightsEqual = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => sameBits(a[k], b[k]));

describe('Autoencoder', () => {
  test('shapes of encode, decode, reconstruct, reconstructionError, evaluate', () => {
    const ae = new Autoencoder(config);
    const x = data(37);
    const z = ae.encode(x);
    expect(z).toBeInstanceOf(Float32Array);
    expect(z.length).toBe(37 * 3);
    expect(ae.decode(z).length).toBe(37 * W);
    const r = ae.reconstruct(x);
    expect(sameBits(r, ae.decode(z))).toBe(true);
    const s = ae.reconstructionError(x);
    expect(s.length).toBe(37);
    // the per-row score is the mean squared error of that row's reconstruction
    for (let i = 0; i < 37; i++) {
      let se = 0;
      for (let j = 0; j < W; j++) se += (r[i * W + j] - x[i * W + j]) ** 2;
      expect(s[i]).toBeCloseTo(se / W, 6);
    }
    const ev = ae.evaluate(x);
    expect(ev.mse).toBeCloseTo(s.reduce((a, b) => a + b, 0) / 37, 6);
    expect(ev.loss).toBeGreaterThan(0);
    ae.dispose();
  });

  test('the parameters follow PyTorch names and shapes', () => {
    const ae = new Autoencoder({ ...config, latentActivation: 'relu' });
    const w = ae.getWeights();
    expect(Object.keys(w)).toEqual([
      'encoder.0.weight', 'encoder.0.bias', 'encoder.2.weight', 'encoder.2.bias',
      'decoder.0.weight', 'decoder.0.bias', 'decoder.2.weight', 'decoder.2.bias',
    ]);
    expect(w['encoder.0.weight'].length).toBe(8 * W);
    expect(w['decoder.2.bias'].length).toBe(W);
    ae.dispose();
  });

  test('outputs are copies that later calls do not overwrite', () => {
    const ae = new Autoencoder(config);
    const a = ae.encode(data(4, 1));
    const keep = a.slice();
    ae.encode(data(4, 2));
    expect(sameBits(a, keep)).toBe(true);
    ae.dispose();
  });

  test('Float32Array, number[][] and Float32Array[] inputs give the same bits', () => {
    const ae = new Autoencoder(config);
    const x = data(5);
    const rows = Array.from({ length: 5 }, (_, i) => x.subarray(i * W, (i + 1) * W));
    const a = ae.reconstruct(x);
    expect(sameBits(a, ae.reconstruct(rows))).toBe(true);
    expect(sameBits(a, ae.reconstruct(rows.map((r) => Array.from(r))))).toBe(true);
    ae.dispose();
  });

  test('results do not depend on how rows are batched', () => {
    const ae = new Autoencoder(config);
    const x = data(300);
    const all = ae.reconstruct(x);
    const one = ae.reconstruct(x.subarray(257 * W, 258 * W));
    expect(sameBits(one, all.subarray(257 * W, 258 * W))).toBe(true);
    ae.dispose();
  });

  test('fit lowers the loss and reports history, epochs and batches', async () => {
    const ae = new Autoencoder({ ...config, optimizer: { type: 'adam', learningRate: 0.01 } });
    const x = data(100);
    const before = ae.evaluate(x).loss;
    const epochs: number[] = [];
    const batches: number[] = [];
    const h = await ae.fit(x, {
      epochs: 4,
      batchSize: 16,
      validationSplit: 0.2,
      onEpochEnd: (e) => void epochs.push(e.epoch),
      onBatchEnd: (b) => void batches.push(b.size),
    });
    expect(epochs).toEqual([1, 2, 3, 4]);
    // 80 training rows in batches of 16: 5 per epoch
    expect(batches).toEqual(Array(20).fill(16));
    expect(h.loss.length).toBe(4);
    expect(h.valLoss.length).toBe(4);
    expect(h.loss[3]).toBeLessThan(h.loss[0]);
    expect(ae.evaluate(x).loss).toBeLessThan(before);
    // the validation loss is the loss on the last 20 rows, evaluated after the epoch
    expect(h.valLoss[3]).toBeCloseTo(ae.evaluate(x.subarray(80 * W)).loss, 6);
    ae.dispose();
  });

  test('same seed gives identical weights and outputs; another seed differs', async () => {
    const x = data(64);
    const run = async (seed: number) => {
      const ae = new Autoencoder({ ...config, seed });
      await ae.fit(x, { epochs: 2, batchSize: 8 });
      const out = { w: ae.getWeights(), r: ae.reconstruct(x) };
      ae.dispose();
      return out;
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(weightsEqual(a.w, b.w)).toBe(true);
    expect(sameBits(a.r, b.r)).toBe(true);
    expect(weightsEqual(a.w, c.w)).toBe(false);
  });

  test('a training step allocates nothing after the first batch', async () => {
    const ae = new Autoencoder(config);
    const a = arena();
    const seen = new Set<string>();
    await ae.fit(data(64), {
      epochs: 2,
      batchSize: 8,
      onBatchEnd: () => void seen.add(`${a.liveTensors()}:${a.bytesInUse()}`),
    });
    expect(seen.size).toBe(1);
    ae.dispose();
  });

  test('memory returns to where it was after fit, encode and dispose', async () => {
    const start = liveTensors();
    for (let i = 0; i < 3; i++) {
      const ae = new Autoencoder(config);
      await ae.fit(data(40), { epochs: 1, batchSize: 7, validationSplit: 0.25 });
      ae.encode(data(300));
      ae.reconstructionError(data(3));
      ae.dispose();
    }
    expect(liveTensors()).toBe(start);
  });

  describe('bad input: a typed error naming the argument; the model untouched', () => {
    const ae = new Autoencoder(config);
    const x = data(10);
    const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
      ['wrong width', () => ae.encode(new Float32Array(W * 2 + 1)), ShapeError, /x has 25 values.*12/],
      ['ragged rows', () => ae.reconstruct([Array(W).fill(0), Array(W - 1).fill(0)]), ShapeError, /x\[1\] has 11 values; expected 12/],
      ['NaN', () => ae.encode(Float32Array.from(x, (v, i) => (i === 30 ? NaN : v))), InputError, /x\[2\]\[6\] is NaN/],
      ['Infinity', () => ae.encode([Array(W).fill(Infinity)]), InputError, /x\[0\]\[0\] is Infinity/],
      ['not a number', () => ae.encode([[...Array(W - 1).fill(0), '1' as unknown as number]]), InputError, /x\[0\]\[11\] is string/],
      ['empty', () => ae.encode(new Float32Array(0)), InputError, /x is empty/],
      ['not an array', () => ae.encode('abc' as never), InputError, /x is string abc/],
      ['latent width', () => ae.decode(new Float32Array(4)), ShapeError, /z has 4 values.*width 3/],
    ];
    test.each(cases)('%s', (_, call, type, message) => {
      const before = ae.getWeights();
      expect(call).toThrow(type);
      expect(call).toThrow(message);
      expect(weightsEqual(before, ae.getWeights())).toBe(true);
    });

    const fitCases: [string, object, RegExp][] = [
      ['batchSize 0', { batchSize: 0 }, /batchSize must be an integer ≥ 1; got 0/],
      ['batchSize 2.5', { batchSize: 2.5 }, /batchSize must be an integer/],
      ['epochs -1', { epochs: -1 }, /epochs must be an integer ≥ 1/],
      ['validationSplit 1', { validationSplit: 1 }, /validationSplit must be a finite number in \[0, 0.99\]/],
      ['callback', { onEpochEnd: 3 }, /onEpochEnd must be a function/],
      ['validationData width', { validationData: new Float32Array(5) }, /validationData has 5 values/],
    ];
    test.each(fitCases)('fit: %s', async (_, options, message) => {
      const before = ae.getWeights();
      await expect(ae.fit(x, options)).rejects.toThrow(message);
      await expect(ae.fit(x, options)).rejects.toBeInstanceOf(Error);
      expect(weightsEqual(before, ae.getWeights())).toBe(true);
    });

    const configCases: [string, object, RegExp][] = [
      ['activation', { activation: 'swish' }, /activation must be one of linear, relu.*got "swish"/],
      ['optimizer', { optimizer: { type: 'lbfgs' } }, /optimizer.type must be one of sgd, adam.*got "lbfgs"/],
      ['optimizer option', { optimizer: { type: 'sgd', beta1: 0.9 } }, /optimizer.beta1 is not an option; expected one of type, clipNorm, learningRate, momentum, dampening, nesterov, weightDecay/],
      ['learning rate', { optimizer: { type: 'adam', learningRate: -1 } }, /optimizer.learningRate must be a finite number ≥ 0/],
      ['inputSize', { inputSize: 0 }, /inputSize must be an integer ≥ 1; got 0/],
      ['hidden', { hidden: [4, 'x'] }, /hidden\[1\] must be an integer/],
      ['bce without sigmoid', { outputActivation: 'linear', loss: 'bce' }, /loss 'bce' needs outputActivation 'sigmoid'/],
      ['loss', { loss: 'hinge' }, /loss must be one of bce, mse, l1/],
      ['seed', { seed: -1 }, /seed must be a non-negative safe integer/],
      ['init', { init: 'zeros' }, /init must be one of glorotUniform/],
    ];
    test.each(configCases)('config: %s', (_, patch, message) => {
      const live = liveTensors();
      expect(() => new Autoencoder({ ...config, ...patch } as AutoencoderConfig)).toThrow(InputError);
      expect(() => new Autoencoder({ ...config, ...patch } as AutoencoderConfig)).toThrow(message);
      expect(liveTensors()).toBe(live);
    });

    test('use after dispose', async () => {
      const m = new Autoencoder(config);
      m.dispose();
      expect(() => m.encode(x)).toThrow(DisposedError);
      await expect(m.fit(x)).rejects.toThrow(DisposedError);
      m.dispose(); // a second dispose is harmless
    });
  });

  test('AbortSignal stops fit between batches; the weights are a completed step', async () => {
    const ae = new Autoencoder(config);
    const ctl = new AbortController();
    let steps = 0;
    const p = ae.fit(data(200), {
      epochs: 50,
      batchSize: 4,
      signal: ctl.signal,
      onBatchEnd: () => {
        if (++steps === 3) ctl.abort();
      },
    });
    await expect(p).rejects.toThrow(/abort/i);
    expect(steps).toBe(3);
    expect(ae.optimizer.step).toBe(3);
    // an already aborted signal does nothing at all
    const before = ae.getWeights();
    await expect(ae.fit(data(10), { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    expect(weightsEqual(before, ae.getWeights())).toBe(true);
    ae.dispose();
  });

  test('a non-finite loss stops training with TrainingError and keeps the last good weights', async () => {
    const ae = new Autoencoder({ ...config, outputActivation: 'linear', loss: 'mse' });
    const x = data(16);
    // finite inputs whose squared error overflows f32 in the second batch
    x.fill(3e38, 8 * W, 16 * W);
    const before = ae.getWeights();
    let err: unknown;
    await ae.fit(x, { epochs: 1, batchSize: 8, shuffle: false }).catch((e) => (err = e));
    expect(err).toBeInstanceOf(TrainingError);
    expect(String(err)).toMatch(/loss became (Infinity|NaN) at step 2/);
    expect(ae.optimizer.step).toBe(1);
    const after = ae.getWeights();
    // exactly the weights of a twin trained on the good first batch alone
    const twin = new Autoencoder({ ...config, outputActivation: 'linear', loss: 'mse' });
    await twin.fit(x.subarray(0, 8 * W), { epochs: 1, batchSize: 8, shuffle: false });
    expect(weightsEqual(after, twin.getWeights())).toBe(true);
    expect(weightsEqual(before, after)).toBe(false);
    twin.dispose();
    ae.dispose();
  });
});
