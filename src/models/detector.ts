import { InputError } from '../errors.js';
import { checkKeys, checkNumber, type Matrix } from '../data.js';

/**
 * Anomaly detection on top of any model: per-row scores, a threshold calibrated from scores of
 * (mostly) normal rows, and flags. The model owns the forward passes (ModelBase.score); this
 * file holds the rules, so every model class shares them.
 */

/** Per-row anomaly scores. 'mse', 'mae': mean squared / absolute error of the reconstruction
 *  per feature; 'euclidean': the L2 norm of the error; 'negElbo' (VAE): −ELBO in nats. All in
 *  the model's normalized units when it normalizes (each feature counts alike). */
export type ScoreMetric = 'mse' | 'mae' | 'euclidean' | 'negElbo';

export interface ScoreOptions {
  /** Default 'mse' (the same numbers as reconstructionError). */
  metric?: ScoreMetric;
}

/** How calibrate turns scores into a threshold; `metric` picks the score (default 'mse'). */
export type CalibrationRule = { metric?: ScoreMetric } & (
  /** The (1 − contamination) quantile: that fraction of the rows is flagged (PyOD's rule). */
  | { contamination: number }
  /** The q quantile of the scores (linear interpolation, numpy's default). */
  | { quantile: number }
  /** The largest score (Keras's anomaly example). */
  | { method: 'max' }
  /** mean + k·std of the scores (population std); k defaults to 3. */
  | { method: 'meanStd'; k?: number }
);

/** What detect returns: every row's score, its flag (score > threshold) and the threshold. */
export interface Detection {
  scores: Float32Array;
  flags: Uint8Array;
  threshold: number;
}

/** What calibrate and detect need of a model: every model class, the int8 one too. */
export interface Scorer {
  readonly scoreMetrics: readonly ScoreMetric[];
  readonly threshold: number | undefined;
  readonly thresholdMetric: ScoreMetric | undefined;
  score(x: Matrix, options?: ScoreOptions): Float32Array;
  setThreshold(t: number | undefined, metric: ScoreMetric): void;
}

/** model.calibrate: sets the threshold from the scores of rows x by a rule; returns it. */
export function calibrateScorer(model: Scorer, x: Matrix, rule: CalibrationRule): number {
  const r = checkRule(rule, model.scoreMetrics);
  const t = r.threshold(model.score(x, { metric: r.metric }));
  model.setThreshold(t, r.metric);
  return t;
}

/** model.detect: scores, flags (score > threshold) and the threshold; needs one. */
export function detectRows(model: Scorer, x: Matrix): Detection {
  const threshold = model.threshold;
  if (threshold === undefined) {
    throw new InputError('this model has no threshold: call calibrate(x, { contamination: 0.01 }) (or set model.threshold) before predict or detect');
  }
  const scores = model.score(x, { metric: model.thresholdMetric });
  return { scores, flags: flagsOf(scores, threshold), threshold };
}

/** Checks score options against the metrics a model offers; returns the metric. */
export function checkScoreOptions(options: unknown, metrics: readonly ScoreMetric[]): ScoreMetric {
  if (options === undefined) return 'mse';
  if (typeof options !== 'object' || options === null) throw new InputError(`score options must be an object like { metric: 'mse' }; got ${String(options)}`);
  checkKeys(options, ['metric'], 'score options');
  return checkMetric((options as ScoreOptions).metric ?? 'mse', metrics, 'metric');
}

function checkMetric(m: unknown, metrics: readonly ScoreMetric[], what: string): ScoreMetric {
  if (!metrics.includes(m as ScoreMetric)) {
    throw new InputError(`${what} must be one of ${metrics.join(', ')} for this model; got ${JSON.stringify(m)}`);
  }
  return m as ScoreMetric;
}

/** Checks a calibration rule; returns it resolved. */
export function checkRule(rule: unknown, metrics: readonly ScoreMetric[]): { metric: ScoreMetric; threshold: (s: Float32Array) => number } {
  if (typeof rule !== 'object' || rule === null) {
    throw new InputError(`calibrate needs a rule: { contamination }, { quantile }, { method: 'max' } or { method: 'meanStd', k }; got ${String(rule)}`);
  }
  checkKeys(rule, ['contamination', 'quantile', 'method', 'k', 'metric'], 'rule');
  const r = rule as Record<string, unknown>;
  const metric = checkMetric(r.metric ?? 'mse', metrics, 'rule.metric');
  const given = ['contamination', 'quantile', 'method'].filter((k) => r[k] !== undefined);
  if (given.length !== 1) {
    throw new InputError(`rule must give exactly one of contamination, quantile, method; got ${given.length ? given.join(' and ') : 'none'}`);
  }
  if (r.k !== undefined && r.method !== 'meanStd') throw new InputError("rule.k goes with { method: 'meanStd' } only");
  if (r.contamination !== undefined) {
    const c = checkNumber(r.contamination, 'rule.contamination', 0, 0.5);
    if (c === 0) throw new InputError('rule.contamination must be in (0, 0.5]; got 0');
    return { metric, threshold: (s) => quantile(s, 1 - c) };
  }
  if (r.quantile !== undefined) {
    const q = checkNumber(r.quantile, 'rule.quantile', 0, 1);
    return { metric, threshold: (s) => quantile(s, q) };
  }
  if (r.method === 'max') return { metric, threshold: (s) => quantile(s, 1) };
  if (r.method === 'meanStd') {
    const k = checkNumber(r.k ?? 3, 'rule.k', 0);
    return { metric, threshold: (s) => meanStd(s, k) };
  }
  throw new InputError(`rule.method must be 'max' or 'meanStd'; got ${JSON.stringify(r.method)}`);
}

/** numpy.quantile(s, q) with the default linear interpolation: h = (n − 1)q, then between the
 *  sorted values at ⌊h⌋ and ⌊h⌋ + 1 (PyOD's threshold_ = percentile(scores, 100(1 − c))). */
export function quantile(s: Float32Array, q: number): number {
  const sorted = Float64Array.from(s).sort();
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  if (lo >= sorted.length - 1) return sorted[sorted.length - 1];
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

/** mean + k·std (population), summed in row order in float64. */
function meanStd(s: Float32Array, k: number): number {
  let mean = 0;
  for (let i = 0; i < s.length; i++) mean += s[i];
  mean /= s.length;
  let ss = 0;
  for (let i = 0; i < s.length; i++) ss += (s[i] - mean) * (s[i] - mean);
  return mean + k * Math.sqrt(ss / s.length);
}

/** flags[i] = 1 when scores[i] > threshold (PyOD's rule: a score equal to it is normal). */
export function flagsOf(scores: Float32Array, threshold: number): Uint8Array {
  const flags = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) flags[i] = scores[i] > threshold ? 1 : 0;
  return flags;
}

/**
 * out[i] = the 'mae' or 'euclidean' error of row i between y and x (`width` values a row),
 * summed in float64 in feature order (same bits in every engine), rounded once to f32.
 */
export function rowErrors(metric: 'mae' | 'euclidean', y: Float32Array, x: Float32Array, out: Float32Array, rows: number, width: number): void {
  for (let r = 0, o = 0; r < rows; r++, o += width) {
    let s = 0;
    if (metric === 'mae') {
      for (let j = 0; j < width; j++) s += Math.abs(y[o + j] - x[o + j]);
      out[r] = s / width;
    } else {
      for (let j = 0; j < width; j++) {
        const d = y[o + j] - x[o + j];
        s += d * d;
      }
      out[r] = Math.sqrt(s);
    }
  }
}
