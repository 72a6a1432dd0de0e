import { InputError } from '../errors.js';
import { checkInt, checkNumber, toRows, type Matrix, type Rows } from '../data.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';

/** Logs passed to onEpochEnd and collected in the history. Losses are means per value. */
export interface EpochLogs {
  /** 1 for the first epoch. */
  epoch: number;
  loss: number;
  valLoss?: number;
  /** Wall-clock seconds the epoch took (validation included). */
  seconds: number;
  learningRate: number;
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
}

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
}

export interface History {
  loss: number[];
  valLoss: number[];
  epochs: EpochLogs[];
}

/** What the fit loop needs of a model; every model in the family provides it. */
export interface Trainable {
  readonly inputSize: number;
  readonly arena: Arena;
  readonly rng: Rng;
  readonly learningRate: number;
  /** Makes room for batches of up to `rows` rows. */
  reserve(rows: number): void;
  /** One optimisation step on `rows` staged rows; the batch's mean loss. Throws TrainingError,
   *  weights untouched, when the loss or the gradients are not finite. */
  trainStep(x: Tensor, rows: number): number;
  /** The mean loss on `rows` staged rows, without training. */
  evalStep(x: Tensor, rows: number): number;
}

/**
 * The one training loop of the library: staging batches into linear memory, shuffling,
 * validation, callbacks, abort, and yielding to the event loop so a page stays responsive.
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
  o.signal?.throwIfAborted();

  const arena = model.arena;
  const batch = Math.min(o.batchSize, train.rows);
  model.reserve(Math.max(batch, val ? Math.min(val.rows, batch) : 0));
  const xb = arena.alloc(batch * model.inputSize);
  const order = arena.alloc(train.rows);
  const history: History = { loss: [], valLoss: [], epochs: [] };
  const yielder = new Yielder();
  try {
    const idx = arena.i32(order);
    for (let i = 0; i < train.rows; i++) idx[i] = i;
    const batches = Math.ceil(train.rows / batch);
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = now();
      if (o.shuffle) model.rng.permutation(order, train.rows);
      const perm = arena.i32(order).slice();
      let sum = 0;
      for (let b = 0; b < batches; b++) {
        o.signal?.throwIfAborted();
        const start = b * batch;
        const rows = Math.min(batch, train.rows - start);
        stage(arena, xb, train, perm, start, rows);
        const loss = model.trainStep(xb, rows);
        sum += loss * rows;
        if (o.onBatchEnd) await o.onBatchEnd({ epoch, batch: b, batches, size: rows, loss });
        await yielder.maybe();
      }
      const logs: EpochLogs = { epoch, loss: sum / train.rows, seconds: 0, learningRate: model.learningRate };
      if (val) logs.valLoss = evaluateRows(model, val, xb, batch);
      logs.seconds = (now() - t0) / 1000;
      history.loss.push(logs.loss);
      if (logs.valLoss !== undefined) history.valLoss.push(logs.valLoss);
      history.epochs.push(logs);
      if (o.onEpochEnd) await o.onEpochEnd(logs);
      await yielder.maybe();
    }
  } finally {
    arena.release(xb);
    arena.release(order);
  }
  return history;
}

/** Mean loss over rows, in batches through the staging tensor xb. */
export function evaluateRows(model: Trainable, data: Rows, xb: Tensor, batch: number): number {
  let sum = 0;
  for (let start = 0; start < data.rows; start += batch) {
    const rows = Math.min(batch, data.rows - start);
    stage(model.arena, xb, data, null, start, rows);
    sum += model.evalStep(xb, rows) * rows;
  }
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
  };
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
