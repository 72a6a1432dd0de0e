// The fit loop's features, each by its behaviour: early stopping (with restoreBestWeights),
// learning-rate schedules, gradient clipping by value and by global norm, weight decay,
// stopTraining from callbacks, abort, dropout in the layers description, metrics in the logs.
import { describe, expect, test } from 'vitest';
import { Autoencoder, DisposedError, InputError, SparseAutoencoder, VAE, init, liveTensors, type AutoencoderConfig } from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { cosPi, scheduledRate } from '../src/train/fit.js';
import { randomArray } from './helpers/reference.js';

await init();

const W = 12;
const config: AutoencoderConfig = { inputSize: W, hidden: [8], latentSize: 3, seed: 5 };
const data = (rows: number, seed = 1) => randomArray(rows * W, seed, 0, 1);
const sameWeights = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
  Object.keys(a).every((k) => a[k].every((v, i) => Object.is(v, b[k][i])));

describe('early stopping', () => {
  test('stops after `patience` epochs without improvement and restores the best weights', async () => {
    const start = liveTensors();
    // a learning rate so large that the validation loss gets worse after the first epochs
    const ae = new Autoencoder({ ...config, optimizer: { type: 'sgd', learningRate: 0.5, momentum: 0.9 }, outputActivation: 'linear', loss: 'mse' });
    const x = data(64);
    let best: Record<string, Float32Array> | null = null;
    let bestVal = Infinity;
    const h = await ae.fit(x, {
      epochs: 100, batchSize: 8, validationSplit: 0.25,
      earlyStopping: { monitor: 'valLoss', patience: 2, restoreBestWeights: true },
      onEpochEnd: (e) => {
        if (e.valLoss! < bestVal) {
          bestVal = e.valLoss!;
          best = ae.getWeights();
        }
      },
    });
    expect(h.stoppedEpoch).toBeDefined();
    expect(h.stoppedEpoch!).toBeLessThan(100);
    const bestEpoch = h.valLoss.indexOf(Math.min(...h.valLoss)) + 1;
    // stopped exactly `patience` + 1 epochs after the best one
    expect(h.stoppedEpoch).toBe(bestEpoch + 3);
    expect(h.bestEpoch).toBe(bestEpoch);
    expect(sameWeights(ae.getWeights(), best!)).toBe(true);
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('minDelta: improvements smaller than it do not count; monitor loss without validation', async () => {
    const ae = new Autoencoder({ ...config, optimizer: { type: 'adam', learningRate: 1e-3 } });
    const h = await ae.fit(data(32), { epochs: 50, batchSize: 8, earlyStopping: { monitor: 'loss', minDelta: 1, patience: 1 } });
    // the first epoch improves on Infinity; no later one improves by 1
    expect(h.stoppedEpoch).toBe(3);
    expect(h.loss.length).toBe(3);
    await expect(ae.fit(data(8), { earlyStopping: { monitor: 'valLoss' } })).rejects.toThrow(/monitor 'valLoss' needs validationData/);
    await expect(ae.fit(data(8), { earlyStopping: { patience: -1 } })).rejects.toThrow(/earlyStopping.patience must be an integer ≥ 0/);
    ae.dispose();
  });
});

describe('learning-rate schedules', () => {
  test.each([
    [{ type: 'step' as const, stepSize: 2, gamma: 0.5 }, [1, 1, 0.5, 0.5, 0.25, 0.25]],
    [{ type: 'exponential' as const, gamma: 0.5 }, [1, 0.5, 0.25, 0.125, 0.0625, 0.03125]],
    // etaMin 0.02 = 0.2·lr₀
    [{ type: 'cosine' as const, tMax: 4, etaMin: 0.02 }, [1, 0.2 + 0.8 * (1 + Math.SQRT1_2) / 2, 0.6, 0.2 + 0.8 * (1 - Math.SQRT1_2) / 2, 0.2, 0.2]],
  ])('%o: the rate each epoch trains with (logs and optimizer)', async (schedule, factors) => {
    const ae = new Autoencoder({ ...config, optimizer: { type: 'sgd', learningRate: 0.1 } });
    const seen: number[] = [];
    const batchRates = new Set<number>();
    await ae.fit(data(16), { epochs: 6, batchSize: 8, learningRateSchedule: schedule,
      onBatchEnd: (b) => void batchRates.add(b.learningRate),
      onEpochEnd: (e) => void seen.push(e.learningRate) });
    seen.forEach((lr, i) => expect(lr).toBeCloseTo(0.1 * factors[i], 12));
    expect(batchRates.size).toBe(new Set(factors).size);
    ae.dispose();
  });

  test('cosPi is cos(πt) to 1e-15 using only exact arithmetic', () => {
    for (let i = 0; i <= 100; i++) expect(Math.abs(cosPi(i / 100) - Math.cos((Math.PI * i) / 100))).toBeLessThan(1e-15);
    expect(scheduledRate({ type: 'cosine', tMax: 10 }, 1, 10)).toBeLessThan(1e-15);
  });

  test('reduceOnPlateau: the rate drops by factor after patience epochs without improvement, not below minLr', async () => {
    const ae = new Autoencoder({ ...config, optimizer: { type: 'sgd', learningRate: 0.1 } });
    const rates: number[] = [];
    // minDelta 10: nothing after the first epoch counts as an improvement
    await ae.fit(data(16), { epochs: 8, batchSize: 8,
      learningRateSchedule: { type: 'reduceOnPlateau', factor: 0.5, patience: 1, minDelta: 10, minLr: 0.02, monitor: 'loss' },
      onEpochEnd: (e) => void rates.push(e.learningRate) });
    expect(rates).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02]);
    ae.dispose();
  });

  test('bad schedules are typed errors naming the field', async () => {
    const ae = new Autoencoder(config);
    await expect(ae.fit(data(8), { learningRateSchedule: { type: 'step', stepSize: 0, gamma: 0.5 } })).rejects.toThrow(/learningRateSchedule.stepSize must be an integer ≥ 1/);
    await expect(ae.fit(data(8), { learningRateSchedule: { type: 'warm' } as never })).rejects.toThrow(InputError);
    ae.dispose();
  });
});

describe('gradient clipping and weight decay', () => {
  test('clipValue bounds every gradient value: one SGD step moves no weight by more than lr·clipValue', async () => {
    // data ×50 for large gradients: outside [0, 1], so a linear output with MSE (BCE refuses it)
    const ae = new Autoencoder({ ...config, outputActivation: 'linear', loss: 'mse', optimizer: { type: 'sgd', learningRate: 1 } });
    const before = ae.getWeights();
    await ae.fit(data(8).map((v) => v * 50), { epochs: 1, batchSize: 8, clipValue: 1e-3 });
    const after = ae.getWeights();
    let maxMove = 0;
    let moved = 0;
    for (const k of Object.keys(before)) {
      before[k].forEach((v, i) => {
        const d = Math.abs(after[k][i] - v);
        maxMove = Math.max(maxMove, d);
        if (d > 0) moved++;
      });
    }
    // f32 rounding of w − lr·g adds at most an ulp of the weight
    expect(maxMove).toBeLessThanOrEqual(1e-3 + 1e-6);
    expect(maxMove).toBeGreaterThan(0.9e-3); // some gradients were clipped to the bound
    expect(moved).toBeGreaterThan(0);
    await expect(ae.fit(data(8), { clipValue: -1 })).rejects.toThrow(/clipValue must be a finite number/);
    ae.dispose();
  });

  test('clipNorm (optimizer) bounds the global step; weightDecay shrinks unused weights', async () => {
    const ae = new Autoencoder({ ...config, outputActivation: 'linear', loss: 'mse', optimizer: { type: 'sgd', learningRate: 1, clipNorm: 0.01 } });
    const before = ae.getWeights();
    await ae.fit(data(8).map((v) => v * 50), { epochs: 1, batchSize: 8 });
    const after = ae.getWeights();
    let sq = 0;
    for (const k of Object.keys(before)) before[k].forEach((v, i) => (sq += (after[k][i] - v) ** 2));
    expect(Math.sqrt(sq)).toBeLessThanOrEqual(0.01 * (1 + 1e-4));
    ae.dispose();
    // with zero-gradient data (a dead network: all-zero input into relu with zero bias), weight decay alone acts
    const wd = new Autoencoder({ ...config, optimizer: { type: 'sgd', learningRate: 0.1, weightDecay: 0.5 } });
    const w0 = wd.getWeights()['encoder.0.weight'];
    await wd.fit(new Float32Array(8 * W), { epochs: 1, batchSize: 8 });
    const w1 = wd.getWeights()['encoder.0.weight'];
    // encoder.0's gradient is x-weighted, so 0 here: w ← w − lr·wd·w
    w1.forEach((v, i) => expect(v).toBeCloseTo(w0[i] * (1 - 0.05), 6));
    wd.dispose();
  });
});

describe('stopTraining, abort and callbacks', () => {
  test('stopTraining from onBatchEnd ends fit after that batch; from onEpochEnd after that epoch', async () => {
    const ae = new Autoencoder(config);
    let batches = 0;
    const h = await ae.fit(data(64), { epochs: 10, batchSize: 8, onBatchEnd: (b) => {
      batches++;
      if (b.epoch === 2 && b.batch === 3) ae.stopTraining = true;
    } });
    expect(batches).toBe(8 + 4);
    expect(ae.optimizer.step).toBe(12);
    expect(h.loss.length).toBe(2);
    expect(h.stoppedEpoch).toBe(2);
    expect(ae.stopTraining).toBe(false); // reset, so the next fit runs
    const h2 = await ae.fit(data(64), { epochs: 10, batchSize: 8, onEpochEnd: (e) => {
      if (e.epoch === 3) ae.stopTraining = true;
    } });
    expect(h2.loss.length).toBe(3);
    ae.dispose();
  });

  test('abort during an epoch: rejects, memory back where it was, weights of the last completed step', async () => {
    const start = liveTensors();
    const ae = new Autoencoder(config);
    const ctl = new AbortController();
    let last: Record<string, Float32Array> | null = null;
    const p = ae.fit(data(64), { epochs: 5, batchSize: 8, signal: ctl.signal, onBatchEnd: (b) => {
      last = ae.getWeights();
      if (b.epoch === 2 && b.batch === 5) ctl.abort(new Error('user abort'));
    } });
    await expect(p).rejects.toThrow('user abort');
    expect(sameWeights(ae.getWeights(), last!)).toBe(true);
    expect(ae.optimizer.step).toBe(14);
    ae.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('dispose from a batch callback during fit: fit rejects with DisposedError, nothing leaks', async () => {
    const start = liveTensors();
    const ae = new Autoencoder(config);
    const p = ae.fit(data(64), { epochs: 5, batchSize: 8, onBatchEnd: (b) => {
      if (b.batch === 2) ae.dispose();
    } });
    await expect(p).rejects.toThrow(DisposedError);
    await expect(p).rejects.toThrow(/this Autoencoder was disposed/);
    expect(liveTensors()).toBe(start);
  });

  test('batch and epoch logs carry the model metrics (VAE: negElbo, reconstruction, kl; sparse: penalty)', async () => {
    const vae = new VAE({ inputSize: W, hidden: [6], latentSize: 2, seed: 1 });
    const batchKeys = new Set<string>();
    const h = await vae.fit(data(40), { epochs: 2, batchSize: 10, validationSplit: 0.25, onBatchEnd: (b) => {
      for (const key of Object.keys(b)) batchKeys.add(key);
      expect(b.loss).toBeCloseTo(b.reconstruction + b.kl, 9);
    } });
    expect([...batchKeys]).toEqual(expect.arrayContaining(['negElbo', 'reconstruction', 'kl', 'learningRate']));
    expect(Object.keys(h.metrics).sort()).toEqual(['kl', 'negElbo', 'reconstruction', 'valKl', 'valNegElbo', 'valReconstruction']);
    expect(h.epochs[1].valNegElbo).toBeCloseTo(h.valLoss[1], 9);
    vae.dispose();
    const sae = new SparseAutoencoder({ ...config, latentActivation: 'relu', sparsity: { l1: 0.1 } });
    const hs = await sae.fit(data(40), { epochs: 2, batchSize: 10 });
    expect(hs.epochs[1].penalty).toBeGreaterThan(0);
    expect(hs.loss[1]).toBeCloseTo(hs.metrics.reconstruction[1] + hs.metrics.penalty[1], 9);
    sae.dispose();
  });
});

describe('dropout in the layers description', () => {
  test('trains with masks from the seeded generator, is off in inference, and rebuilds from config', async () => {
    const start = liveTensors();
    const layers = {
      encoder: [{ type: 'dense' as const, units: 8, activation: 'relu' as const }, { type: 'dropout' as const, rate: 0.5 },
        { type: 'dense' as const, units: 3, activation: 'linear' as const }],
      decoder: [{ type: 'dense' as const, units: 8, activation: 'relu' as const }, { type: 'dense' as const, units: W, activation: 'sigmoid' as const }],
    };
    const ae = new Autoencoder({ inputSize: W, layers, seed: 9 });
    expect(ae.latentSize).toBe(3);
    // nn.Dropout counts as a module: Linear, ReLU, Dropout, Linear → encoder.0 and encoder.3
    expect(Object.keys(ae.getWeights())).toEqual(['encoder.0.weight', 'encoder.0.bias', 'encoder.3.weight', 'encoder.3.bias',
      'decoder.0.weight', 'decoder.0.bias', 'decoder.2.weight', 'decoder.2.bias']);
    const x = data(32);
    // inference is deterministic (no mask)
    expect(ae.reconstruct(x)).toEqual(ae.reconstruct(x));
    // the JSON config rebuilds the same model: same init, same masks, same training
    const twin = new Autoencoder(JSON.parse(JSON.stringify(ae.config)));
    expect(twin.config).toEqual(ae.config);
    expect(sameWeights(twin.getWeights(), ae.getWeights())).toBe(true);
    const h = await ae.fit(x, { epochs: 2, batchSize: 8 });
    await twin.fit(x, { epochs: 2, batchSize: 8 });
    expect(sameWeights(twin.getWeights(), ae.getWeights())).toBe(true);
    expect(h.loss[1]).toBeLessThan(h.loss[0] * 1.5);
    ae.dispose();
    twin.dispose();
    expect(liveTensors()).toBe(start);
  });

  test('same seed, same dropout masks: identical training runs', async () => {
    const layers = { encoder: [{ type: 'dropout' as const, rate: 0.3 }, { type: 'dense' as const, units: 3, activation: 'linear' as const }],
      decoder: [{ type: 'dense' as const, units: W, activation: 'sigmoid' as const }] };
    const run = async () => {
      const ae = new Autoencoder({ inputSize: W, layers, seed: 4 });
      await ae.fit(data(24), { epochs: 2, batchSize: 8 });
      const w = ae.getWeights();
      ae.dispose();
      return w;
    };
    const w1 = await run();
    expect(sameWeights(w1, await run())).toBe(true);
    expect(() => new Autoencoder({ inputSize: W, layers: { ...layers, encoder: [{ type: 'dropout', rate: 1 }] } })).toThrow(/layers.encoder\[0\].rate must be a number in \[0, 1\)/);
  });

  test('a training step with dropout allocates nothing after the first batch', async () => {
    const layers = { encoder: [{ type: 'dense' as const, units: 6, activation: 'relu' as const }, { type: 'dropout' as const, rate: 0.2 },
      { type: 'dense' as const, units: 3, activation: 'linear' as const }], decoder: [{ type: 'dense' as const, units: W, activation: 'sigmoid' as const }] };
    const ae = new Autoencoder({ inputSize: W, layers });
    const a = arena();
    const seen = new Set<string>();
    await ae.fit(data(64), { epochs: 2, batchSize: 8, onBatchEnd: () => void seen.add(`${a.liveTensors()}:${a.bytesInUse()}`) });
    expect(seen.size).toBe(1);
    ae.dispose();
  });
});
