import { InputError, ShapeError } from '../errors.js';
import { describe } from '../data.js';

/**
 * Per-feature normalization inside a model: x' = (x − shift) / scale, feature by feature, applied
 * to every batch the model sees (fit, encode, reconstruct, score, evaluate, detect); outputs in
 * input space (reconstruct, decode, featureErrors) are mapped back with x = x'·scale + shift.
 * A model file stores shift and scale as plain F32 tensors `normalizer.shift` and
 * `normalizer.scale` [inputSize], so PyTorch users can apply them as written.
 */
export interface Normalizer {
  /** 'standard': shift = mean, scale = std (population); 'minmax': shift = min, scale = max − min;
   *  'fixed': statistics given by the user. */
  readonly type: NormalizeKind;
  readonly shift: Float32Array;
  readonly scale: Float32Array;
}

export type NormalizeKind = 'standard' | 'minmax' | 'fixed';

/** The `normalize` option of every model class. */
export type NormalizeOption =
  | 'none'
  | 'standard'
  | 'minmax'
  | { mean: ArrayLike<number>; std: ArrayLike<number> }
  | { min: ArrayLike<number>; max: ArrayLike<number> };

/**
 * Resolves the `normalize` option: the kind stored in the resolved config (undefined for 'none',
 * so configs and files without normalization stay as they were) and, for fixed statistics, the
 * normalizer itself. 'fixed' alone is what a model file's config holds: its statistics are the
 * file's tensors.
 */
export function resolveNormalize(v: unknown, width: number): { kind: NormalizeKind | undefined; normalizer: Normalizer | null } {
  if (v === undefined || v === 'none') return { kind: undefined, normalizer: null };
  if (v === 'standard' || v === 'minmax' || v === 'fixed') return { kind: v, normalizer: null };
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const keys = Object.keys(v).sort().join(',');
    const o = v as Record<string, unknown>;
    if (keys === 'mean,std') {
      const mean = statistic(o.mean, width, 'normalize.mean');
      const std = statistic(o.std, width, 'normalize.std');
      std.forEach((s, j) => {
        if (!(s > 0)) throw new InputError(`normalize.std[${j}] is ${s}; expected a positive standard deviation`);
      });
      return { kind: 'fixed', normalizer: { type: 'fixed', shift: mean, scale: std } };
    }
    if (keys === 'max,min') {
      const min = statistic(o.min, width, 'normalize.min');
      const max = statistic(o.max, width, 'normalize.max');
      const scale = new Float32Array(width);
      for (let j = 0; j < width; j++) {
        scale[j] = max[j] - min[j];
        if (!(scale[j] > 0) || !Number.isFinite(scale[j])) {
          throw new InputError(`normalize.max[${j}] (${max[j]}) must be greater than normalize.min[${j}] (${min[j]}) by a finite amount`);
        }
      }
      return { kind: 'fixed', normalizer: { type: 'fixed', shift: min, scale } };
    }
  }
  throw new InputError(
    `normalize must be 'none', 'standard', 'minmax', { mean, std } or { min, max }; got ${typeof v === 'object' && v !== null ? `an object with keys ${Object.keys(v).join(', ') || '(none)'}` : JSON.stringify(v)}`,
  );
}

/** Checks and converts one per-feature statistic to f32. */
function statistic(v: unknown, width: number, what: string): Float32Array {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    throw new InputError(`${what} is ${describe(v)}; expected ${width} numbers (one per feature)`);
  }
  const a = v as ArrayLike<number>;
  if (a.length !== width) throw new ShapeError(`${what} has ${a.length} values; expected ${width} (one per feature, the input width)`);
  const out = new Float32Array(width);
  for (let j = 0; j < width; j++) {
    const x = a[j];
    if (typeof x !== 'number' || !Number.isFinite(x) || !Number.isFinite(Math.fround(x))) {
      throw new InputError(`${what}[${j}] is ${String(x)}; expected a finite number`);
    }
    out[j] = x;
  }
  return out;
}

/**
 * Fits a normalizer in one pass over rows given batch by batch, in float64: Welford's update for
 * the mean and the sum of squared deviations (stable for features far from zero, e.g. 1e5 ± 0.01,
 * where Σx² − n·mean² would cancel), min and max. Rows are folded strictly in order, one at a
 * time, so the result does not depend on how the rows were split into batches, and the
 * operations are IEEE double + − × ÷ √ only: the same bits in every engine.
 */
export class NormalizerFitter {
  private n = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;

  constructor(readonly kind: 'standard' | 'minmax', readonly width: number) {
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
  }

  /** Folds in `rows` rows of row-major data (values already checked finite). */
  add(data: Float32Array, rows: number): void {
    const w = this.width;
    const { mean, m2, min, max } = this;
    for (let r = 0; r < rows; r++) {
      const n = ++this.n;
      const o = r * w;
      for (let j = 0; j < w; j++) {
        const x = data[o + j];
        const d = x - mean[j];
        mean[j] += d / n;
        m2[j] += d * (x - mean[j]);
        if (x < min[j]) min[j] = x;
        if (x > max[j]) max[j] = x;
      }
    }
  }

  get rows(): number {
    return this.n;
  }

  /** The fitted normalizer. A constant feature (zero spread) gets scale 1, never a division by 0. */
  finish(): Normalizer {
    if (this.n === 0) throw new InputError('no rows to fit the normalizer on');
    const w = this.width;
    const shift = new Float32Array(w);
    const scale = new Float32Array(w);
    for (let j = 0; j < w; j++) {
      if (this.kind === 'standard') {
        shift[j] = this.mean[j];
        scale[j] = Math.sqrt(this.m2[j] / this.n);
      } else {
        shift[j] = this.min[j];
        scale[j] = this.max[j] - this.min[j];
      }
      // a spread below f32's smallest subnormal, or one that overflows f32, is no usable scale
      if (!(scale[j] > 0) || !Number.isFinite(scale[j])) scale[j] = 1;
    }
    return { type: this.kind, shift, scale };
  }
}

/**
 * x' = (x − shift) / scale in place on `rows` rows of `v`, with f32 rounding after each
 * operation: exactly torch's `(x - shift) / scale` on float32 tensors (f64 + − ÷ of f32 values
 * rounded once to f32 equal the f32 operations, since 53 ≥ 2·24 + 2).
 */
export function normalizeRows(v: Float32Array, rows: number, n: Normalizer): void {
  const { shift, scale } = n;
  const w = shift.length;
  for (let r = 0, o = 0; r < rows; r++, o += w) {
    for (let j = 0; j < w; j++) v[o + j] = Math.fround(v[o + j] - shift[j]) / scale[j];
  }
}

/** x = x'·scale + shift in place (row-major, width = the normalizer's): back to input units. */
export function denormalizeRows(v: Float32Array, n: Normalizer): void {
  const { shift, scale } = n;
  const w = shift.length;
  for (let o = 0; o < v.length; o += w) {
    for (let j = 0; j < w; j++) v[o + j] = Math.fround(v[o + j] * scale[j]) + shift[j];
  }
}
