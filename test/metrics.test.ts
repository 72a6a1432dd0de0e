// rocAuc, averagePrecision, precisionRecallCurve and confusion against brute-force references
// written from the definitions (pairwise win rate with ties as ½; AP as the mean over anomalies
// of the precision at their own score; counts at every threshold), on random scores with many
// ties, and sklearn's values on its documented examples. Node and Chromium.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { averagePrecision, confusion, InputError, precisionRecallCurve, rocAuc, ShapeError } from '../src/index.js';

/** Scores drawn from few values (ties are the point) with 0/1 labels holding both classes. */
const cases = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 1 })), { minLength: 2, maxLength: 60 })
  .filter((rows) => rows.some((r) => r[1] === 1) && rows.some((r) => r[1] === 0))
  .map((rows) => ({ scores: rows.map((r) => r[0] / 4), labels: rows.map((r) => r[1]) }));

function bruteAuc(s: number[], l: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (l[i] !== 1 || l[j] !== 0) continue;
      pairs++;
      wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

/** Flagging score ≥ t: precision and recall, counted row by row. */
function at(s: number[], l: number[], t: number) {
  let tp = 0;
  let flagged = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] >= t) {
      flagged++;
      tp += l[i];
    }
  }
  return { precision: tp / flagged, recall: tp / l.reduce((a, b) => a + b, 0) };
}

function bruteAp(s: number[], l: number[]): number {
  const anomalies = s.filter((_, i) => l[i] === 1);
  return anomalies.reduce((sum, t) => sum + at(s, l, t).precision, 0) / anomalies.length;
}

describe('metrics against brute force', () => {
  test('rocAuc is the pairwise win rate with ties as ½', () => {
    fc.assert(fc.property(cases, ({ scores, labels }) => {
      expect(rocAuc(scores, labels)).toBeCloseTo(bruteAuc(scores, labels), 12);
    }), { numRuns: 300 });
  });

  test('averagePrecision is the mean over anomalies of the precision at their own score', () => {
    fc.assert(fc.property(cases, ({ scores, labels }) => {
      expect(averagePrecision(scores, labels)).toBeCloseTo(bruteAp(scores, labels), 12);
    }), { numRuns: 300 });
  });

  test('precisionRecallCurve: the distinct scores increasing, precision and recall of score ≥ t, then (1, 0)', () => {
    fc.assert(fc.property(cases, ({ scores, labels }) => {
      const c = precisionRecallCurve(scores, labels);
      const distinct = [...new Set(scores)].sort((a, b) => a - b);
      expect(Array.from(c.thresholds)).toEqual(distinct);
      distinct.forEach((t, k) => {
        const r = at(scores, labels, t);
        expect(c.precision[k]).toBeCloseTo(r.precision, 14);
        expect(c.recall[k]).toBeCloseTo(r.recall, 14);
      });
      expect(c.precision[distinct.length]).toBe(1);
      expect(c.recall[distinct.length]).toBe(0);
    }), { numRuns: 200 });
  });

  test('confusion counts flags score > threshold', () => {
    fc.assert(fc.property(cases, fc.integer({ min: -1, max: 7 }), ({ scores, labels }, ti) => {
      const t = ti / 4;
      const c = confusion(scores, labels, t);
      const flag = scores.map((s) => s > t);
      const count = (f: boolean, l: number) => flag.filter((g, i) => g === f && labels[i] === l).length;
      expect([c.tp, c.fp, c.tn, c.fn]).toEqual([count(true, 1), count(true, 0), count(false, 0), count(false, 1)]);
      const p = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 0;
      const r = c.tp / (c.tp + c.fn);
      expect(c.precision).toBe(p);
      expect(c.recall).toBe(r);
      expect(c.f1).toBeCloseTo(p + r ? (2 * p * r) / (p + r) : 0, 14);
    }), { numRuns: 200 });
  });

  test("sklearn's documented examples", () => {
    // roc_auc_score / average_precision_score / precision_recall_curve docstrings
    const y = [0, 0, 1, 1];
    const s = [0.1, 0.4, 0.35, 0.8];
    expect(rocAuc(s, y)).toBe(0.75);
    expect(averagePrecision(s, y)).toBeCloseTo(0.8333333333333333, 15);
    const c = precisionRecallCurve(s, y);
    expect(Array.from(c.precision)).toEqual([0.5, 2 / 3, 0.5, 1, 1]);
    expect(Array.from(c.recall)).toEqual([1, 1, 0.5, 0.5, 0]);
    expect(Array.from(c.thresholds)).toEqual([0.1, 0.35, 0.4, 0.8]);
    // all scores tied: a coin flip
    expect(rocAuc([1, 1, 1], Uint8Array.from([0, 1, 0]))).toBe(0.5);
  });

  test('bad labels and lengths are typed errors naming the argument', () => {
    expect(() => rocAuc([1, 2], [0, 2])).toThrow(/labels\[1\] is 2; expected 0 \(normal\) or 1 \(anomaly\)/);
    expect(() => rocAuc([1, 2], [0, 0.5])).toThrow(InputError);
    expect(() => averagePrecision([1, 2, 3], [0, 1])).toThrow(ShapeError);
    expect(() => averagePrecision([1, 2, 3], [0, 1])).toThrow(/scores has 3 values and labels 2/);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/no 0 \(normal\) rows/);
    expect(() => averagePrecision([1, 2], [0, 0])).toThrow(/no 1 \(anomaly\) rows/);
    expect(() => precisionRecallCurve([Number.NaN, 1], [0, 1])).toThrow(/scores\[0\] is NaN/);
    expect(() => confusion([1], [1], Number.NaN)).toThrow(/threshold must be a number/);
    expect(() => rocAuc('abc' as never, [1])).toThrow(/scores is string abc/);
    expect(() => rocAuc([], [])).toThrow(/empty/);
  });
});
