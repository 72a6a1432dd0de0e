import { InputError } from '../errors.js';
import { toRows, type Matrix, type Rows } from '../data.js';
import type { Arena, Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';

/**
 * Data larger than memory: `fit` takes, besides arrays, a source of batches. Each batch is a
 * Matrix (row-major Float32Array rows × width, number[][] or Float32Array[]), of any number of
 * rows; fit regroups the rows into batches of batchSize, so with the same rows in the same order
 * and no shuffling the steps are exactly those of the array fit.
 */
export type Batches = Iterable<Matrix> | AsyncIterable<Matrix>;
/** An (async) iterable of batches, read once; or a function returning a fresh one per pass
 *  (needed for more than one epoch, for validation every epoch, and to fit a normalizer first). */
export type DataSource = Batches | (() => Batches);

/** True for a DataSource, false for a Matrix (arrays are iterable too: they are matrices). */
export function isSource(x: unknown): x is DataSource {
  if (x instanceof Float32Array || Array.isArray(x)) return false;
  if (typeof x === 'function') return true;
  return typeof x === 'object' && x !== null && (Symbol.asyncIterator in x || Symbol.iterator in x);
}

/** Hands out one pass over a source at a time; a plain iterable only once. */
export class SourcePasses {
  private used = false;
  constructor(private readonly source: DataSource, readonly what: string) {}

  /** Whether the source can be read again (a function giving a fresh iterable each time). */
  get repeatable(): boolean {
    return typeof this.source === 'function';
  }

  pass(): Batches {
    if (typeof this.source !== 'function') {
      if (this.used) throw new InputError(`${this.what} is an iterable that can be read only once; pass a function returning a fresh iterable for every pass`);
      this.used = true;
      return this.source;
    }
    const it = this.source();
    if (typeof it !== 'object' || it === null || !(Symbol.asyncIterator in it || Symbol.iterator in it)) {
      throw new InputError(`${this.what} is a function, so it must return an iterable or async iterable of batches; it returned ${String(it)}`);
    }
    return it;
  }
}

/**
 * The rows of one pass, checked batch by batch (a batch of the wrong width is a ShapeError that
 * names it), regrouped into chunks of exactly `size` rows (the last one shorter). Holds one
 * source batch and one chunk at a time.
 */
export async function* rowChunks(batches: Batches, width: number, size: number, what: string): AsyncGenerator<Rows> {
  const buf = new Float32Array(size * width);
  let filled = 0;
  let k = 0;
  for await (const batch of batches as AsyncIterable<Matrix>) {
    const b = toRows(batch, width, `${what} batch ${k++}`);
    let at = 0;
    while (at < b.rows) {
      const n = Math.min(size - filled, b.rows - at);
      buf.set(b.data.subarray(at * width, (at + n) * width), filled * width);
      filled += n;
      at += n;
      if (filled === size) {
        yield { data: buf, rows: size, width };
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { data: buf.subarray(0, filled * width), rows: filled, width };
}

/**
 * A seeded shuffle buffer over a stream of row chunks (tf.data's `shuffle(bufferSize)`): the
 * first `capacity` rows fill it; then every incoming row takes the place of a uniformly drawn
 * buffered row, which goes out; at the end the rest leaves in a random order. Draws come from
 * the model's generator in the core, so the order is the same in every runtime. Rows come out
 * regrouped into chunks of `size`.
 */
export async function* shuffled(chunks: AsyncIterable<Rows>, capacity: number, size: number, width: number, arena: Arena, rng: Rng): AsyncGenerator<Rows> {
  const buf = new Float32Array(capacity * width);
  const out = new Float32Array(size * width);
  let held = 0;
  let filled = 0;
  const DRAWS = 1024;
  const u: Tensor = arena.alloc(Math.max(DRAWS, capacity));
  let draws: Float32Array = new Float32Array(0);
  let next = DRAWS;
  try {
    const emit = (src: Float32Array, at: number) => {
      out.set(src.subarray(at * width, at * width + width), filled * width);
      return ++filled === size;
    };
    for await (const c of chunks) {
      for (let r = 0; r < c.rows; r++) {
        if (held < capacity) {
          buf.set(c.data.subarray(r * width, r * width + width), held++ * width);
          continue;
        }
        if (next === DRAWS) {
          rng.uniform(u, 0, 1, DRAWS);
          draws = arena.read(u, DRAWS);
          next = 0;
        }
        // u < 1 in f32, so j < capacity; the min guards the rounding of u·capacity
        const j = Math.min(capacity - 1, Math.floor(draws[next++] * capacity));
        const full = emit(buf, j);
        buf.set(c.data.subarray(r * width, r * width + width), j * width);
        if (full) {
          yield { data: out, rows: size, width };
          filled = 0;
        }
      }
    }
    // drain: the rows still held, in a random order
    rng.permutation(u, held);
    const perm = arena.i32(u).slice(0, held);
    for (let i = 0; i < held; i++) {
      if (emit(buf, perm[i])) {
        yield { data: out, rows: size, width };
        filled = 0;
      }
    }
    if (filled > 0) yield { data: out.subarray(0, filled * width), rows: filled, width };
  } finally {
    arena.release(u);
  }
}
