import type { Rows } from '../data.js';
import type { Arena, Tensor } from './memory.js';

/**
 * The one staging buffer of a model: rows of a host data set copied into linear memory for the
 * kernels, a batch or an inference chunk at a time. Training batches (shuffled), validation,
 * evaluate and inference all go through it, so there is one copy path and one buffer, sized
 * once by reserve() and reused.
 */
export class Staging {
  private buffer: Tensor | null = null;
  /** Rows the buffer holds at its width. */
  private rows = 0;

  constructor(private readonly arena: Arena, private readonly width: number) {}

  /** Makes room for `rows` rows of `width` values (the widest the model stages). */
  reserve(rows: number): void {
    if (rows <= this.rows) return;
    this.release();
    this.buffer = this.arena.alloc(rows * this.width);
    this.rows = rows;
  }

  /** The rows the buffer holds. */
  get capacity(): number {
    return this.rows;
  }

  /** Copies rows order[start..start+rows) of data (or start.. in order) to the buffer; returns it. */
  stage(data: Rows, order: Int32Array | null, start: number, rows: number): Tensor {
    const w = data.width;
    const dst = this.arena.f32(this.buffer!);
    if (!order) {
      dst.set(data.data.subarray(start * w, (start + rows) * w));
    } else {
      for (let i = 0; i < rows; i++) {
        const r = order[start + i];
        dst.set(data.data.subarray(r * w, r * w + w), i * w);
      }
    }
    return this.buffer!;
  }

  release(): void {
    if (this.buffer) this.arena.release(this.buffer);
    this.buffer = null;
    this.rows = 0;
  }
}
