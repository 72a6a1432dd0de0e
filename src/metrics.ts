import { InputError, ShapeError } from './errors.js';
import { describe } from './data.js';

/**
 * Metrics for judging a detector against known labels (1 = anomaly, the positive class), with
 * scikit-learn's definitions and tie handling (sklearn.metrics 1.1+): rows with equal scores
 * share one threshold, never an arbitrary order. Sums run in float64 in a fixed order.
 */

/** precision_recall_curve: thresholds increasing (the distinct scores); precision and recall
 *  one longer, ending with 1 and 0 (sklearn's convention), for flags score ≥ threshold. */
export interface PrecisionRecallCurve {
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
}

/** Counts and rates for flags score > threshold (the rule of predict and detect). Precision,
 *  recall and f1 are 0 where their denominator is 0 (sklearn's zero_division=0). */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Area under the ROC curve: the probability that a random anomaly scores above a random
 *  normal row, ties counting ½ (sklearn roc_auc_score). Needs both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const c = curve(scores, labels, 'rocAuc');
  if (c.negatives === 0) throw new InputError('rocAuc: labels has no 0 (normal) rows; the AUROC needs both classes');
  // trapezoids between consecutive distinct thresholds: a tie group adds its (fp, tp) step as a
  // straight segment, which counts its positive-negative pairs as ½
  let area = 0;
  let tp0 = 0;
  let fp0 = 0;
  for (let k = 0; k < c.tps.length; k++) {
    area += (c.fps[k] - fp0) * (c.tps[k] + tp0);
    tp0 = c.tps[k];
    fp0 = c.fps[k];
  }
  return area / (2 * c.positives * c.negatives);
}

/** Average precision: Σ (R_k − R_{k−1})·P_k over the distinct thresholds, the step-wise sum of
 *  sklearn's average_precision_score (no interpolation). Needs at least one anomaly. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const c = curve(scores, labels, 'averagePrecision');
  let ap = 0;
  let tp0 = 0;
  for (let k = 0; k < c.tps.length; k++) {
    ap += ((c.tps[k] - tp0) / c.positives) * (c.tps[k] / (c.tps[k] + c.fps[k]));
    tp0 = c.tps[k];
  }
  return ap;
}

/** sklearn's precision_recall_curve (see PrecisionRecallCurve). Needs at least one anomaly. */
export function precisionRecallCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): PrecisionRecallCurve {
  const c = curve(scores, labels, 'precisionRecallCurve');
  const K = c.tps.length;
  const precision = new Float64Array(K + 1);
  const recall = new Float64Array(K + 1);
  const thresholds = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const i = K - 1 - k; // increasing thresholds
    precision[i] = c.tps[k] / (c.tps[k] + c.fps[k]);
    recall[i] = c.tps[k] / c.positives;
    thresholds[i] = c.thresholds[k];
  }
  precision[K] = 1;
  recall[K] = 0;
  return { precision, recall, thresholds };
}

/** The confusion matrix of flags score > threshold against labels, with precision, recall, F1. */
export function confusion(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): Confusion {
  check(scores, labels, 'confusion');
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new InputError(`confusion: threshold must be a number; got ${String(threshold)}`);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const flag = scores[i] > threshold;
    if (labels[i] === 1) flag ? tp++ : fn++;
    else flag ? fp++ : tn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, tn, fn, precision, recall, f1 };
}

/** Checks scores and labels: array-likes of one length, finite scores, labels exactly 0 or 1. */
function check(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): void {
  for (const [v, name] of [[scores, 'scores'], [labels, 'labels']] as const) {
    if (!(Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView)))) {
      throw new InputError(`${what}: ${name} is ${describe(v)}; expected an array or typed array of numbers`);
    }
  }
  if (scores.length !== labels.length) {
    throw new ShapeError(`${what}: scores has ${scores.length} values and labels ${labels.length}; expected one label per score`);
  }
  if (scores.length === 0) throw new InputError(`${what}: scores and labels are empty`);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (typeof s !== 'number' || !Number.isFinite(s)) throw new InputError(`${what}: scores[${i}] is ${String(s)}; expected a finite number`);
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new InputError(`${what}: labels[${i}] is ${String(l)}; expected 0 (normal) or 1 (anomaly)`);
  }
}

/** sklearn's _binary_clf_curve: per distinct score, from the highest down, the cumulative
 *  true and false positives of flagging every row scoring at least that much. */
function curve(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string) {
  check(scores, labels, what);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const tps: number[] = [];
  const fps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    labels[i] === 1 ? tp++ : fp++;
    if (k === n - 1 || scores[order[k + 1]] !== scores[i]) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(scores[i]);
    }
  }
  if (tp === 0) throw new InputError(`${what}: labels has no 1 (anomaly) rows; expected at least one`);
  return { tps, fps, thresholds, positives: tp, negatives: fp };
}
