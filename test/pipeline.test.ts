// The batch pipeline and the defects issue 9 lists for it: guarded construction (3), the VAE's
// evaluation noise by row (6), schedules per fit (8), bad updates undone (10), and the flat
// parameter buffers behind them (one update call per step).
import { describe, expect, test } from 'vitest';
import {
  Autoencoder,
  ConvAutoencoder,
  DenoisingAutoencoder,
  SparseAutoencoder,
  TrainingError,
  VAE,
  init,
  liveTensors,
  readSafetensors,
  toFloat32,
  writeSafetensors,
} from '../src/index.js';
import { toRows } from '../src/data.js';
import { arena } from '../src/runtime/context.js';
import { randomArray } from './helpers/reference.js';

await init();

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);
const weightsEqual = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => sameBits(a[k], b[k]));

/** Configs of every model class that fail late: after some layers were declared. */
const FAILING: [string, () => unknown][] = [
  ['Autoencoder (unknown layer)', () => new Autoencoder({ inputSize: 6, layers: { encoder: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 2, activation: 'linear' }], decoder: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'lstm' } as never, { type: 'dense', units: 6, activation: 'sigmoid' }] } })],
  ['Autoencoder (decoder size)', () => new Autoencoder({ inputSize: 6, layers: { encoder: [{ type: 'dense', units: 2, activation: 'linear' }], decoder: [{ type: 'dense', units: 5, activation: 'sigmoid' }] } })],
  ['DenoisingAutoencoder', () => new DenoisingAutoencoder({ inputSize: 6, noise: { type: 'mask', p: 0.2 }, layers: { encoder: [{ type: 'dense', units: 2, activation: 'linear' }], decoder: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'conv2d', filters: 1, kernelSize: 3 }] } })],
  ['SparseAutoencoder', () => new SparseAutoencoder({ inputSize: 6, sparsity: { l1: 0.1 }, layers: { encoder: [{ type: 'dense', units: 3, activation: 'relu' }, { type: 'dense', units: 2, activation: 'relu' }], decoder: [{ type: 'dense', units: 7, activation: 'sigmoid' }] } })],
  ['ConvAutoencoder', () => new ConvAutoencoder({ inputShape: [1, 8, 8], latentSize: 3, layers: { encoder: [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'maxPool2d', kernelSize: 9 }, { type: 'flatten' }, { type: 'dense', units: 3, activation: 'linear' }], decoder: [{ type: 'dense', units: 64, activation: 'sigmoid' }] } })],
  ['VAE (unknown layer)', () => new VAE({ inputSize: 6, latentSize: 2, layers: { encoder: [{ type: 'dense', units: 4, activation: 'relu' }], decoder: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'gru' } as never, { type: 'dense', units: 6, activation: 'sigmoid' }] } })],
  ['VAE (bad activation)', () => new VAE({ inputSize: 6, latentSize: 2, layers: { encoder: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'conv2d', filters: 1, kernelSize: 1, activation: 'swish' } as never], decoder: [{ type: 'dense', units: 6, activation: 'sigmoid' }] } })],
];

describe('construction (defect 3)', () => {
  test.each(FAILING)('%s: 100 failing constructions leak nothing', (_name, build) => {
    const a = arena();
    const live = liveTensors();
    const bytes = a.bytesInUse();
    for (let i = 0; i < 100; i++) expect(build).toThrow();
    expect(liveTensors()).toBe(live);
    expect(a.bytesInUse()).toBe(bytes);
  });
});

describe('VAE evaluation noise (defect 6)', () => {
  // before: ε was drawn per chunk, so −ELBO moved with the chunk size (0.5 nats seen on MNIST)
  test.each([3, 4])('latentSize %i: −ELBO and its terms do not depend on the chunk or batch size', async (latentSize) => {
    const vae = new VAE({ inputSize: 10, hidden: [8], latentSize, seed: 3, optimizer: { type: 'sgd', learningRate: 0 } });
    const x = randomArray(300 * 10, 7, 0, 1);
    const rows = toRows(x, 10, 'x');
    const ref = vae.evaluateRows(rows, 256);
    for (const chunk of [1, 7, 300]) {
      const e = vae.evaluateRows(rows, chunk);
      // the same per-row values summed in other groups: equal to f64 rounding of the sums
      for (const k of ['loss', 'negElbo', 'reconstruction', 'kl'] as const) expect(e[k]).toBeCloseTo(ref[k], 10);
    }
    expect(vae.evaluate(x).negElbo).toBeCloseTo(ref.negElbo, 10);
    // validation inside fit goes through the same pipeline in batches of batchSize (lr 0: no change)
    for (const batchSize of [1, 7, 256]) {
      const h = await vae.fit(randomArray(20 * 10, 9, 0, 1), { epochs: 1, batchSize, validationData: x, shuffle: false });
      expect(h.metrics.valNegElbo![0]).toBeCloseTo(ref.negElbo, 10);
    }
    // and row r's noise is row r's: the first 7 rows alone give the first 7 rows' numbers
    const head = vae.evaluateRows(toRows(x.subarray(0, 70), 10, 'x'), 1);
    const parts = [...Array(7).keys()].map((r) => vae.evaluateRows(toRows(x.subarray(r * 10, r * 10 + 10), 10, 'x')).negElbo);
    expect(head.negElbo).not.toBeCloseTo(parts[0], 3);
    vae.dispose();
  });
});

describe('learning-rate schedules (defect 8)', () => {
  test('each fit starts its schedule from the configured rate', async () => {
    const ae = new Autoencoder({ inputSize: 6, latentSize: 2, seed: 1, optimizer: { type: 'adam', learningRate: 1e-3 } });
    const x = randomArray(40 * 6, 2, 0, 1);
    const schedule = { type: 'cosine', tMax: 5 } as const;
    const first = await ae.fit(x, { epochs: 3, batchSize: 8, learningRateSchedule: schedule });
    const second = await ae.fit(x, { epochs: 3, batchSize: 8, learningRateSchedule: schedule });
    expect(first.epochs[0].learningRate).toBe(1e-3);
    expect(first.epochs[2].learningRate).toBeLessThan(1e-3);
    expect(second.epochs.map((e) => e.learningRate)).toEqual(first.epochs.map((e) => e.learningRate));
    const plateau = await ae.fit(x, { epochs: 1, batchSize: 8, learningRateSchedule: { type: 'reduceOnPlateau' } });
    expect(plateau.epochs[0].learningRate).toBe(1e-3);
    ae.dispose();
  });
});

describe('bad updates (defect 10)', () => {
  test('an update that overflows is undone bit for bit and raises; save() then loads', async () => {
    // SGD at 1e36: the first steps move the weights to ~1e35, a later one overflows to ±Infinity
    const ae = new Autoencoder({ inputSize: 8, hidden: [6], latentSize: 2, outputActivation: 'linear', seed: 2, optimizer: { type: 'sgd', learningRate: 1e36 } });
    const x = randomArray(64 * 8, 4, -1, 1);
    let last = ae.getWeights();
    let steps = 0;
    const err = await ae.fit(x, { epochs: 5, batchSize: 8, onBatchEnd: () => {
      last = ae.getWeights();
      steps++;
    } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect(String(err)).toMatch(new RegExp(`at step ${steps + 1}; the weights are those of the last good step`));
    expect(weightsEqual(ae.getWeights(), last)).toBe(true);
    expect(ae.optimizer.step).toBe(steps);
    for (const w of Object.values(ae.getWeights())) expect(w.every(Number.isFinite)).toBe(true);
    for (const optimizer of [false, true]) {
      const back = Autoencoder.load(ae.save({ optimizer }));
      expect(weightsEqual(back.getWeights(), last)).toBe(true);
      back.dispose();
    }
    ae.dispose();
  });

  test.each(['adam', 'rmsprop', 'adagrad', 'adadelta'] as const)('%s: non-finite gradients never reach the weights or the state', (type) => {
    const ae = new Autoencoder({ inputSize: 4, latentSize: 2, outputActivation: 'linear', seed: 1, optimizer: { type } });
    const a = ae.arena;
    const xb = a.alloc(2 * 4);
    a.write(xb, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    ae.reserve(2);
    ae.trainStep(xb, 2);
    const before = ae.getWeights();
    const state = ae.optimizer.stateTensors().flat().map((t) => a.read(t));
    // a huge target: the loss (summed in f64) and the gradients stay finite, their squares in the
    // optimizer state overflow f32
    a.write(xb, [3e37, -3e37, 3e37, -3e37, 3e37, -3e37, 3e37, -3e37]);
    expect(() => ae.trainStep(xb, 2)).toThrow(/the update made \d+ weights or optimizer state values non-finite .* at step 2; the weights are those of the last good step/);
    expect(weightsEqual(ae.getWeights(), before)).toBe(true);
    ae.optimizer.stateTensors().flat().forEach((t, i) => expect(sameBits(a.read(t), state[i])).toBe(true));
    expect(ae.optimizer.step).toBe(1);
    for (const t of ae.optimizer.stateTensors().flat()) expect(a.read(t).every(Number.isFinite)).toBe(true);
    for (const w of Object.values(ae.getWeights())) expect(w.every(Number.isFinite)).toBe(true);
    a.release(xb);
    ae.dispose();
  });
});

describe('clipValue and non-finite gradients', () => {
  // A finite loss (summed in f64) whose backward overflows f32: codes ≈ 1e7 (encoder weights 1e7),
  // outputs ≈ 5e37 (decoder weights 1e30), so ∂loss/∂output ≈ 1e37 is finite and the gradient of
  // the codes, Σ ∂loss/∂output · 1e30, is ±Infinity. Clamping would turn that into ±clipValue:
  // the step is refused instead, with or without clipValue.
  test.each([0, 1e-3])('clipValue %s: the step is refused, the weights and state stay as they were', (clipValue) => {
    const ae = new Autoencoder({ inputSize: 4, latentSize: 2, outputActivation: 'linear', loss: 'mse', seed: 1, optimizer: 'adam' });
    const a = ae.arena;
    const weight = (net: string) => ae.params().find((p) => p.name.startsWith(net) && p.name.endsWith('weight'))!.value;
    a.f32(weight('encoder')).fill(1e7);
    a.f32(weight('decoder')).fill(1e30);
    const xb = a.alloc(2 * 4);
    a.write(xb, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    ae.reserve(2);
    const before = ae.getWeights();
    const state = ae.optimizer.stateTensors().flat().map((t) => a.read(t));
    const want = clipValue > 0 ? /the gradients became non-finite at step 1;/ : /the update made \d+ weights or optimizer state values non-finite .* at step 1;/;
    expect(() => ae.trainStep(xb, 2, clipValue)).toThrow(want);
    expect(weightsEqual(ae.getWeights(), before)).toBe(true);
    ae.optimizer.stateTensors().flat().forEach((t, i) => expect(sameBits(a.read(t), state[i])).toBe(true));
    expect(ae.optimizer.step).toBe(0);
    a.release(xb);
    ae.dispose();
  });
});

describe('flat parameter buffers', () => {
  test('one optimizer update call (no snapshot, no non-finite pass) and no norm pass per step without clipNorm; one norm pass with it', () => {
    for (const [clipNorm, sumSq] of [[0, 0], [1, 1]]) {
      const ae = new Autoencoder({ inputSize: 20, hidden: [12], latentSize: 3, seed: 1, optimizer: { type: 'adam', clipNorm } });
      const a = ae.arena;
      const xb = a.alloc(4 * 20);
      a.write(xb, randomArray(80, 3, 0, 1));
      ae.reserve(4);
      const ex = a.ex;
      const counts: Record<string, number> = {};
      const counting = Object.fromEntries(Object.entries(ex).map(([k, f]) => [k, typeof f !== 'function' ? f : (...args: never[]) => {
        counts[k] = (counts[k] ?? 0) + 1;
        return (f as (...a: never[]) => unknown)(...args);
      }]));
      Object.defineProperty(a, 'ex', { value: counting, configurable: true });
      try {
        ae.trainStep(xb, 4);
      } finally {
        Object.defineProperty(a, 'ex', { value: ex, configurable: true });
      }
      expect(ae.params().length).toBe(8);
      // one update that keeps its own undo log: no snapshot before it, no non-finite pass after
      expect(counts.f32_adam).toBe(1);
      expect(counts.f32_sum_sq ?? 0).toBe(sumSq);
      expect(counts.f32_count_nonfinite ?? 0).toBe(0);
      expect(counts.f32_copy ?? 0).toBe(0);
      a.release(xb);
      ae.dispose();
    }
  });

  test("Adam's AMSGrad state exists only when asked for; files of 0.1.0 (which hold it anyway) still load", () => {
    const plain = new Autoencoder({ inputSize: 5, latentSize: 2, optimizer: 'adam' });
    const ams = new Autoencoder({ inputSize: 5, latentSize: 2, optimizer: { type: 'adam', amsgrad: true } });
    expect(plain.optimizer.stateTensors()[0].length).toBe(2);
    expect(ams.optimizer.stateTensors()[0].length).toBe(3);
    // the difference in memory is one more state buffer and its backup copy
    const file = readSafetensors(ams.save({ optimizer: true }));
    expect([...file.tensors.keys()]).toContain('optimizer.encoder.0.weight.max_exp_avg_sq');
    expect([...readSafetensors(plain.save({ optimizer: true })).tensors.keys()].some((n) => n.endsWith('max_exp_avg_sq'))).toBe(false);
    // a 0.1.0 file of a plain Adam model: the same tensors, amsgrad false in its config
    const config = JSON.parse(file.metadata!.config);
    config.optimizer.amsgrad = false;
    const old = writeSafetensors([...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: toFloat32(t, name) })), { ...file.metadata, config: JSON.stringify(config) });
    const back = Autoencoder.load(old);
    expect(back.optimizer.stateTensors()[0].length).toBe(2);
    expect(weightsEqual(back.getWeights(), ams.getWeights())).toBe(true);
    for (const m of [plain, ams, back]) m.dispose();
  });
});
