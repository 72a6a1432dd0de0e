import { InputError, ShapeError } from './errors.js';

/** What every method that takes samples accepts: row-major Float32Array, or one array per row. */
export type Matrix = Float32Array | readonly (readonly number[])[] | readonly Float32Array[];

/** Row-major f32 data of known width, checked once at the boundary. */
export interface Rows {
  readonly data: Float32Array;
  readonly rows: number;
  readonly width: number;
}

/**
 * Validates `x` as rows of `width` finite numbers and returns it row-major. A Float32Array is
 * used as is (no copy); arrays of rows are copied once. Errors name the argument (`what`), the
 * row and column, and what was expected.
 */
export function toRows(x: unknown, width: number, what: string): Rows {
  let data: Float32Array;
  if (x instanceof Float32Array) {
    if (x.length === 0) throw new InputError(`${what} is empty; expected at least one row of ${width} values`);
    if (x.length % width !== 0) {
      throw new ShapeError(`${what} has ${x.length} values, not a multiple of the width ${width}; expected rows × ${width}`);
    }
    data = x;
  } else if (Array.isArray(x)) {
    if (x.length === 0) throw new InputError(`${what} is empty; expected at least one row of ${width} values`);
    data = new Float32Array(x.length * width);
    for (let r = 0; r < x.length; r++) {
      const row: unknown = x[r];
      if (!(row instanceof Float32Array) && !Array.isArray(row)) {
        throw new InputError(`${what}[${r}] is ${describe(row)}; expected an array of ${width} numbers`);
      }
      if (row.length !== width) {
        throw new ShapeError(`${what}[${r}] has ${row.length} values; expected ${width} (rows must all have the input width)`);
      }
      for (let c = 0; c < width; c++) {
        const v = row[c];
        if (typeof v !== 'number') throw new InputError(`${what}[${r}][${c}] is ${describe(v)}; expected a finite number`);
        data[r * width + c] = v;
      }
    }
  } else {
    throw new InputError(`${what} is ${describe(x)}; expected a Float32Array (row-major) or an array of rows`);
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      const r = Math.floor(i / width);
      throw new InputError(`${what}[${r}][${i - r * width}] is ${v}; expected finite numbers (no NaN or Infinity)`);
    }
  }
  return { data, rows: data.length / width, width };
}

/**
 * Refuses targets outside [0, 1] for binary cross-entropy, whose loss is meaningless there (on
 * values around 1e5 it goes negative and the scores are garbage, with no other sign). One
 * min/max pass; the message gives the range found and the two ways out.
 */
export function checkUnitTargets(rows: Rows, what: string, normalizer?: { shift: Float32Array; scale: Float32Array } | null): void {
  const d = rows.data;
  const w = rows.width;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    // with a normalizer, the value the model trains on (as normalizeRows computes it)
    const j = i % w;
    const v = normalizer ? Math.fround(Math.fround(d[i] - normalizer.shift[j]) / normalizer.scale[j]) : d[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min < 0 || max > 1) {
    throw new InputError(
      `${what} holds values in [${min}, ${max}]${normalizer ? ' after the model\'s normalization' : ''}; the loss 'bce' (sigmoid output) needs targets in [0, 1]: ` +
        "normalize the data to [0, 1] (pixels / 255, or the model option normalize: 'minmax'), or use outputActivation 'linear' with loss 'mse'",
    );
  }
}

/** A short description of a value of the wrong kind, for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === 'object') {
    // Object.prototype's constructor, never an own "constructor" key of parsed JSON
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return `a ${typeof name === 'string' && name ? name : 'object'}`;
  }
  return `${typeof v} ${String(v)}`;
}

/** Checks an integer option, naming it in the error. */
export function checkInt(v: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw new InputError(`${what} must be an integer ${range}; got ${String(v)}`);
  }
  return v;
}

/** Checks a finite number option, optionally within [min, max]. */
export function checkNumber(v: unknown, what: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InputError(`${what} must be a finite number in [${min}, ${max}]; got ${String(v)}`);
  }
  return v;
}

/**
 * Rejects any own key of `options` that is not in `allowed`, naming it and the nearest valid key
 * (so `batch_size` suggests `batchSize`). `what` names the options object in the message.
 */
export function checkKeys(options: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = nearest(key, allowed);
    const hint = near === undefined ? '' : `did you mean '${near}'? `;
    throw new InputError(`${what}.${key} is not an option; ${hint}expected one of ${allowed.join(', ')}`);
  }
}

/**
 * The entry of `candidates` closest to `key` (case and _/- ignored), if reasonably close: within
 * an edit distance of about a third of its length, or one being the start of the other
 * (`hiddenLayers` → `hidden`, `hi` → `high`), ties going to the smaller edit distance.
 */
function nearest(key: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const k = fold(key);
  let best: string | undefined;
  let bestScore = Math.max(2, Math.floor(k.length / 3)) + 1;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const f = fold(c);
    const d = editDistance(k, f);
    const prefix = Math.min(k.length, f.length) >= 2 && (k.startsWith(f) || f.startsWith(k));
    const score = prefix ? Math.min(d, 1) : d;
    if (score < bestScore || (best !== undefined && score === bestScore && d < bestDistance)) [best, bestScore, bestDistance] = [c, score, d];
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
