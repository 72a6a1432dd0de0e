import { InputError } from '../errors.js';
import { checkInt, checkNumber, toRows, type Matrix, type Rows } from '../data.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { Param } from '../nn/layers.js';
import type { Normalizer, NormalizerFitter } from '../models/normalizer.js';

/**
 * Logs passed to onEpochEnd and collected in the history. `loss` is the model's objective (per
 * value for the autoencoders, nats per sample for the VAE). Models that report more (a VAE's
 * reconstruction and kl, a sparse model's penalty) add those names, and `val` + Name for the
 * validation set (valReconstruction, valKl, ...).
 */
export interface EpochLogs {
  /** 1 for the first epoch. */
  epoch: number;
  loss: number;
  valLoss?: number;
  /** Wall-clock seconds the epoch took (validation included). */
  seconds: number;
  /** The learning rate the epoch trained with. */
  learningRate: number;
  [metric: string]: number | undefined;
}

export interface BatchLogs {
  epoch: number;
  /** 0-based index of the batch within the epoch. */
  batch: number;
  /** Batches in this epoch. */
  batches: number;
  /** Rows in this batch. */
  size: number;
  loss: number;
  learningRate: number;
  [metric: string]: number;
}

/** Stop when the monitored loss has not improved by more than minDelta for `patience` epochs. */
export interface EarlyStopping {
  /** Default 'valLoss' when there is validation data, else 'loss'. */
  monitor?: 'valLoss' | 'loss';
  /** Epochs without improvement before stopping. Default 0 (stop at the first). */
  patience?: number;
  /** The smallest decrease that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping (or at the end). Default false. */
  restoreBestWeights?: boolean;
}

/** Learning-rate schedules, applied at the start of each epoch (PyTorch's lr_scheduler names). */
export type LearningRateSchedule =
  /** lr₀·gamma^⌊e/stepSize⌋, e = epochs done (StepLR). */
  | { type: 'step'; stepSize: number; gamma: number }
  /** lr₀·gamma^e (ExponentialLR). */
  | { type: 'exponential'; gamma: number }
  /** etaMin + (lr₀ − etaMin)(1 + cos(π·e/tMax))/2 (CosineAnnealingLR without restarts, e ≤ tMax). */
  | { type: 'cosine'; tMax: number; etaMin?: number }
  /** lr·factor after `patience` epochs without improvement of the monitor by > minDelta, not below minLr. */
  | { type: 'reduceOnPlateau'; factor?: number; patience?: number; minDelta?: number; minLr?: number; monitor?: 'valLoss' | 'loss' };

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the training rows every epoch (from the model's seeded generator). Default true. */
  shuffle?: boolean;
  /** Fraction of the rows, taken from the end before shuffling, held out for validation (Keras). */
  validationSplit?: number;
  validationData?: Matrix;
  onEpochEnd?: (logs: EpochLogs) => void | Promise<void>;
  onBatchEnd?: (logs: BatchLogs) => void | Promise<void>;
  /** Aborting rejects fit with the signal's reason; the weights are those of the last step. */
  signal?: AbortSignal;
  earlyStopping?: EarlyStopping;
  learningRateSchedule?: LearningRateSchedule;
  /** Clamp every gradient value to [−clipValue, clipValue] before the update (clip_grad_value_). */
  clipValue?: number;
}

export interface History {
  loss: number[];
  valLoss: number[];
  epochs: EpochLogs[];
  /** Every extra metric by name, one value per epoch (reconstruction, kl, valKl, ...). */
  metrics: Record<string, number[]>;
  /** The epoch early stopping or stopTraining ended training at, if either did. */
  stoppedEpoch?: number;
  /** The epoch whose weights were restored (earlyStopping.restoreBestWeights). */
  bestEpoch?: number;
}

/** What the fit loop needs of a model; every model in the family provides it. */
export interface Trainable {
  readonly inputSize: number;
  readonly arena: Arena;
  readonly rng: Rng;
  /** Read and set by schedules between epochs. */
  learningRate: number;
  /** Set by a callback to end fit after the current batch; fit resets it when it starts. */
  stopTraining: boolean;
  /** Names of extra values a step reports (lastMetrics holds them, per sample like the loss). */
  readonly metricNames: readonly string[];
  readonly lastMetrics: ArrayLike<number>;
  /** The trainable tensors (early stopping keeps a copy of the best). */
  params(): Param[];
  /** Makes room for batches of up to `rows` rows. */
  reserve(rows: number): void;
  /** One optimisation step on `rows` staged rows; the batch's mean loss. Throws TrainingError,
   *  weights untouched, when the loss or the gradients are not finite. clipValue > 0 clamps the
   *  gradients elementwise. */
  trainStep(x: Tensor, rows: number, clipValue?: number): number;
  /** The mean loss on `rows` staged rows, without training. */
  evalStep(x: Tensor, rows: number): number;
  /** Called before a pass of evalStep over a data set (a VAE restarts its evaluation noise). */
  beginEval?(): void;
  /** A fitter when the model's normalizer is still to be fitted (fit feeds it the training rows). */
  normalizerFitter?(): NormalizerFitter | null;
  setNormalizer?(n: Normalizer): void;
  /** Called on every staged batch before the model sees it (normalization, in place). */
  prepareBatch?(x: Tensor, rows: number): void;
}

/**
 * The one training loop of the library: staging batches into linear memory, shuffling,
 * validation, callbacks, early stopping, learning-rate schedules, abort, and yielding to the
 * event loop so a page stays responsive.
 */
export async function fit(model: Trainable, x: Matrix, options: FitOptions = {}): Promise<History> {
  const o = checkFitOptions(options);
  const all = toRows(x, model.inputSize, 'x');
  let train: Rows = all;
  let val: Rows | null = null;
  if (o.validationData !== undefined) {
    val = toRows(o.validationData, model.inputSize, 'validationData');
  } else if (o.validationSplit > 0) {
    const nTrain = Math.floor(all.rows * (1 - o.validationSplit));
    if (nTrain < 1 || nTrain >= all.rows) {
      throw new InputError(`validationSplit ${o.validationSplit} leaves no rows for training or validation out of ${all.rows}`);
    }
    const w = all.width;
    train = { data: all.data.subarray(0, nTrain * w), rows: nTrain, width: w };
    val = { data: all.data.subarray(nTrain * w), rows: all.rows - nTrain, width: w };
  }
  const fitter = model.normalizerFitter?.();
  if (fitter) {
    fitter.add(train.data, train.rows);
    model.setNormalizer!(fitter.finish());
  }
  const early = o.earlyStopping ? resolveMonitor(o.earlyStopping.monitor, val, 'earlyStopping') : null;
  const plateau = o.learningRateSchedule?.type === 'reduceOnPlateau' ? resolveMonitor(o.learningRateSchedule.monitor, val, 'learningRateSchedule') : null;
  o.signal?.throwIfAborted();

  const arena = model.arena;
  const batch = Math.min(o.batchSize, train.rows);
  model.reserve(Math.max(batch, val ? Math.min(val.rows, batch) : 0));
  const xb = arena.alloc(batch * model.inputSize);
  const order = arena.alloc(train.rows);
  const names = model.metricNames;
  const history: History = { loss: [], valLoss: [], epochs: [], metrics: {} };
  for (const m of names) {
    history.metrics[m] = [];
    if (val) history.metrics[valName(m)] = [];
  }
  const yielder = new Yielder();
  const lr0 = model.learningRate;
  const sums = new Float64Array(names.length);
  const es = { best: Infinity, bestEpoch: 0, wait: 0, weights: null as Float32Array[] | null };
  const rop = { best: Infinity, wait: 0 };
  model.stopTraining = false;
  try {
    const idx = arena.i32(order);
    for (let i = 0; i < train.rows; i++) idx[i] = i;
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = now();
      if (o.learningRateSchedule && o.learningRateSchedule.type !== 'reduceOnPlateau') {
        model.learningRate = scheduledRate(o.learningRateSchedule, lr0, epoch - 1);
      }
      const learningRate = model.learningRate;
      if (o.shuffle) model.rng.permutation(order, train.rows);
      const perm = arena.i32(order).slice();
      let sum = 0;
      let seen = 0;
      sums.fill(0);
      const batches = Math.ceil(train.rows / batch);
      for (let b = 0; b < batches; b++) {
        o.signal?.throwIfAborted();
        const start = b * batch;
        const rows = Math.min(batch, train.rows - start);
        stage(arena, xb, train, perm, start, rows);
        model.prepareBatch?.(xb, rows);
        const loss = model.trainStep(xb, rows, o.clipValue);
        sum += loss * rows;
        seen += rows;
        for (let m = 0; m < names.length; m++) sums[m] += model.lastMetrics[m] * rows;
        if (o.onBatchEnd) {
          const logs: BatchLogs = { epoch, batch: b, batches, size: rows, loss, learningRate };
          for (let m = 0; m < names.length; m++) logs[names[m]] = model.lastMetrics[m];
          await o.onBatchEnd(logs);
        }
        await yielder.maybe();
        if (model.stopTraining) break;
      }
      const logs: EpochLogs = { epoch, loss: sum / seen, seconds: 0, learningRate };
      for (let m = 0; m < names.length; m++) logs[names[m]] = sums[m] / seen;
      if (val) {
        const v = evaluateRows(model, val, xb, batch, sums);
        logs.valLoss = v;
        for (let m = 0; m < names.length; m++) logs[valName(names[m])] = sums[m];
      }
      logs.seconds = (now() - t0) / 1000;
      history.loss.push(logs.loss);
      if (logs.valLoss !== undefined) history.valLoss.push(logs.valLoss);
      for (const m of names) {
        history.metrics[m].push(logs[m]!);
        if (val) history.metrics[valName(m)].push(logs[valName(m)]!);
      }
      history.epochs.push(logs);
      if (o.onEpochEnd) await o.onEpochEnd(logs);
      if (plateau && o.learningRateSchedule?.type === 'reduceOnPlateau') {
        const s = o.learningRateSchedule;
        const value = logs[plateau]!;
        if (value < rop.best - (s.minDelta ?? 0)) {
          rop.best = value;
          rop.wait = 0;
        } else if (++rop.wait > (s.patience ?? 10)) {
          model.learningRate = Math.max(model.learningRate * (s.factor ?? 0.1), s.minLr ?? 0);
          rop.wait = 0;
        }
      }
      let stop = model.stopTraining;
      if (early && o.earlyStopping) {
        const value = logs[early]!;
        if (value < es.best - (o.earlyStopping.minDelta ?? 0)) {
          es.best = value;
          es.bestEpoch = epoch;
          es.wait = 0;
          if (o.earlyStopping.restoreBestWeights) es.weights = snapshot(model, es.weights);
        } else if (++es.wait > (o.earlyStopping.patience ?? 0)) {
          stop = true;
        }
      }
      await yielder.maybe();
      if (stop) {
        history.stoppedEpoch = epoch;
        break;
      }
    }
    if (es.weights && es.bestEpoch !== history.epochs.length) {
      const params = model.params();
      params.forEach((p, i) => arena.f32(p.value).set(es.weights![i]));
      history.bestEpoch = es.bestEpoch;
    } else if (es.weights) {
      history.bestEpoch = es.bestEpoch;
    }
  } finally {
    arena.release(xb);
    arena.release(order);
    model.stopTraining = false;
  }
  return history;
}

const valName = (m: string) => `val${m[0].toUpperCase()}${m.slice(1)}`;

/** The key of the logs a monitor reads; valLoss needs validation data. */
function resolveMonitor(monitor: unknown, val: Rows | null, what: string): 'valLoss' | 'loss' {
  const m = monitor ?? (val ? 'valLoss' : 'loss');
  if (m !== 'valLoss' && m !== 'loss') throw new InputError(`${what}.monitor must be 'valLoss' or 'loss'; got ${JSON.stringify(m)}`);
  if (m === 'valLoss' && !val) throw new InputError(`${what}.monitor 'valLoss' needs validationData or validationSplit`);
  return m;
}

/** Copies of every parameter's values, into `into` when it is given (reused between epochs). */
function snapshot(model: Trainable, into: Float32Array[] | null): Float32Array[] {
  const params = model.params();
  const out = into ?? params.map((p) => new Float32Array(p.value.size));
  params.forEach((p, i) => out[i].set(model.arena.f32(p.value)));
  return out;
}

/** The learning rate of epoch e (0-based) under a schedule, from the initial rate lr0. Powers
 *  are repeated products and the cosine is cosPi below: no host Math that could differ by engine. */
export function scheduledRate(s: LearningRateSchedule, lr0: number, e: number): number {
  const pow = (g: number, n: number) => {
    let r = 1;
    for (let i = 0; i < n; i++) r *= g;
    return r;
  };
  switch (s.type) {
    case 'step':
      return lr0 * pow(s.gamma, Math.floor(e / s.stepSize));
    case 'exponential':
      return lr0 * pow(s.gamma, e);
    case 'cosine': {
      const etaMin = s.etaMin ?? 0;
      const t = Math.min(e, s.tMax) / s.tMax;
      return etaMin + ((lr0 - etaMin) * (1 + cosPi(t))) / 2;
    }
    default:
      return lr0;
  }
}

/** cos(π·t) for t in [0, 1] by its Taylor series around π/2 (cos(π t) = −sin(π(t − ½))), with
 *  only +, −, ×, ÷: exact IEEE operations, so every engine gets the same bits. Error < 1e-15. */
export function cosPi(t: number): number {
  const x = Math.PI * (t - 0.5); // |x| ≤ π/2
  let term = x;
  let sum = x;
  for (let k = 1; k < 14; k++) {
    term *= -(x * x) / ((2 * k) * (2 * k + 1));
    sum += term;
  }
  return -sum;
}

/** Mean loss over rows, in batches through the staging tensor xb; the means of the model's
 *  extra metrics go to `metrics` when it is given. */
export function evaluateRows(model: Trainable, data: Rows, xb: Tensor, batch: number, metrics?: Float64Array): number {
  let sum = 0;
  metrics?.fill(0);
  model.beginEval?.();
  for (let start = 0; start < data.rows; start += batch) {
    const rows = Math.min(batch, data.rows - start);
    stage(model.arena, xb, data, null, start, rows);
    model.prepareBatch?.(xb, rows);
    sum += model.evalStep(xb, rows) * rows;
    if (metrics) for (let m = 0; m < model.metricNames.length; m++) metrics[m] += model.lastMetrics[m] * rows;
  }
  if (metrics) for (let m = 0; m < model.metricNames.length; m++) metrics[m] /= data.rows;
  return sum / data.rows;
}

/** Copies rows order[start..start+rows) (or start.. in order) of data into the staging tensor. */
export function stage(arena: Arena, xb: Tensor, data: Rows, order: Int32Array | null, start: number, rows: number): void {
  const w = data.width;
  const dst = arena.f32(xb);
  if (!order) {
    dst.set(data.data.subarray(start * w, (start + rows) * w));
    return;
  }
  for (let i = 0; i < rows; i++) {
    const r = order[start + i];
    dst.set(data.data.subarray(r * w, r * w + w), i * w);
  }
}

function checkFitOptions(options: FitOptions) {
  if (typeof options !== 'object' || options === null) throw new InputError(`fit options must be an object; got ${String(options)}`);
  const o = {
    epochs: checkInt(options.epochs ?? 1, 'epochs', 1),
    batchSize: checkInt(options.batchSize ?? 32, 'batchSize', 1),
    shuffle: options.shuffle ?? true,
    validationSplit: checkNumber(options.validationSplit ?? 0, 'validationSplit', 0, 0.99),
    validationData: options.validationData,
    onEpochEnd: options.onEpochEnd,
    onBatchEnd: options.onBatchEnd,
    signal: options.signal,
    earlyStopping: options.earlyStopping,
    learningRateSchedule: options.learningRateSchedule,
    clipValue: checkNumber(options.clipValue ?? 0, 'clipValue', 0),
  };
  checkEarlyStopping(o.earlyStopping);
  checkSchedule(o.learningRateSchedule);
  if (typeof o.shuffle !== 'boolean') throw new InputError(`shuffle must be a boolean; got ${String(o.shuffle)}`);
  for (const k of ['onEpochEnd', 'onBatchEnd'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new InputError(`${k} must be a function; got ${typeof o[k]}`);
  }
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal && 'aborted' in o.signal)) {
    throw new InputError('signal must be an AbortSignal');
  }
  if (o.validationData !== undefined && options.validationSplit) {
    throw new InputError('give either validationData or validationSplit, not both');
  }
  return o;
}

function checkEarlyStopping(e: unknown): void {
  if (e === undefined) return;
  if (typeof e !== 'object' || e === null) throw new InputError(`earlyStopping must be an object; got ${String(e)}`);
  const o = e as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['monitor', 'patience', 'minDelta', 'restoreBestWeights'].includes(key)) {
      throw new InputError(`earlyStopping.${key} is not an option; expected monitor, patience, minDelta, restoreBestWeights`);
    }
  }
  if (o.patience !== undefined) checkInt(o.patience, 'earlyStopping.patience', 0);
  if (o.minDelta !== undefined) checkNumber(o.minDelta, 'earlyStopping.minDelta', 0);
  if (o.restoreBestWeights !== undefined && typeof o.restoreBestWeights !== 'boolean') {
    throw new InputError(`earlyStopping.restoreBestWeights must be a boolean; got ${String(o.restoreBestWeights)}`);
  }
}

function checkSchedule(s: unknown): void {
  if (s === undefined) return;
  if (typeof s !== 'object' || s === null) throw new InputError(`learningRateSchedule must be an object; got ${String(s)}`);
  const o = s as Record<string, unknown>;
  const w = 'learningRateSchedule';
  switch (o.type) {
    case 'step':
      checkInt(o.stepSize, `${w}.stepSize`, 1);
      checkNumber(o.gamma, `${w}.gamma`, 0);
      break;
    case 'exponential':
      checkNumber(o.gamma, `${w}.gamma`, 0);
      break;
    case 'cosine':
      checkInt(o.tMax, `${w}.tMax`, 1);
      if (o.etaMin !== undefined) checkNumber(o.etaMin, `${w}.etaMin`, 0);
      break;
    case 'reduceOnPlateau':
      if (o.factor !== undefined) checkNumber(o.factor, `${w}.factor`, 0, 1);
      if (o.patience !== undefined) checkInt(o.patience, `${w}.patience`, 0);
      if (o.minDelta !== undefined) checkNumber(o.minDelta, `${w}.minDelta`, 0);
      if (o.minLr !== undefined) checkNumber(o.minLr, `${w}.minLr`, 0);
      break;
    default:
      throw new InputError(`${w}.type must be one of step, exponential, cosine, reduceOnPlateau; got ${JSON.stringify(o.type)}`);
  }
}

function now(): number {
  return performance.now();
}

/**
 * Yields to the event loop at most every ~10 ms of work. A MessageChannel round trip costs
 * microseconds, where setTimeout(0) is clamped to a millisecond or more.
 */
class Yielder {
  private last = now();
  async maybe(): Promise<void> {
    if (now() - this.last < 10) return;
    await new Promise<void>((resolve) => {
      // Workers without the expose_global_message_channel flag have no MessageChannel
      if (typeof MessageChannel !== 'function') {
        setTimeout(resolve, 0);
        return;
      }
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    });
    this.last = now();
  }
}
