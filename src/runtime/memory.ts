import { DisposedError, RuntimeError } from '../errors.js';
import type { Core } from './load.js';
import type { CoreExports } from './abi.js';

/**
 * A handle to a block of f32 (or i32) slots in linear memory. Never a bare number: the Arena
 * knows every live handle, so leaks are countable and a freed handle cannot be used again.
 */
export interface Tensor {
  readonly id: number;
  /** Byte offset into linear memory, 64-byte aligned. */
  readonly offset: number;
  /** Number of 4-byte elements. */
  readonly size: number;
}

const ALIGN = 64; // a cache line: keeps SIMD loads aligned and rows of packed panels apart
const PAGE = 65536;

interface Block {
  offset: number;
  bytes: number;
}

/**
 * The one owner of the core's linear memory. Allocation is first-fit over a free list kept in
 * offset order, with neighbours coalesced on free; memory grows when nothing fits. Views are
 * rebuilt whenever `memory.buffer` changes, because `memory.grow` detaches the old buffer and
 * every typed array over it silently becomes empty.
 */
export class Arena {
  readonly ex: CoreExports;
  private readonly memory: WebAssembly.Memory;
  private free: Block[] = [];
  private top: number;
  private nextId = 1;
  private readonly live = new Map<number, Tensor & { bytes: number }>();
  private buffer: ArrayBuffer | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);

  constructor(core: Core) {
    this.ex = core.exports;
    this.memory = core.memory;
    this.top = align(core.exports.heap_base());
  }

  /** Allocates n 4-byte slots, zero-filled. */
  alloc(n: number): Tensor {
    if (!Number.isInteger(n) || n < 0) throw new RuntimeError(`Arena.alloc: size must be a non-negative integer, got ${n}`);
    const bytes = align(Math.max(n, 1) * 4);
    let offset = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.bytes >= bytes) {
        offset = b.offset;
        if (b.bytes === bytes) this.free.splice(i, 1);
        else {
          b.offset += bytes;
          b.bytes -= bytes;
        }
        break;
      }
    }
    if (offset < 0) {
      offset = this.top;
      this.top += bytes;
      const short = this.top - this.memory.buffer.byteLength;
      if (short > 0) {
        // grow geometrically (by half the current size, at least 1 MiB): building a model makes
        // dozens of allocations, and each grow costs a copy-free but not free remap
        const need = Math.ceil(short / PAGE);
        if (!this.grow(Math.max(need, (this.memory.buffer.byteLength / PAGE) >> 1, 16)) && !this.grow(need)) {
          this.top -= bytes;
          throw new RuntimeError(`out of WebAssembly memory: could not grow to ${this.top + bytes} bytes`);
        }
      }
    }
    const t = { id: this.nextId++, offset, size: n, bytes };
    this.live.set(t.id, t);
    this.u8().fill(0, offset, offset + bytes);
    return t;
  }

  /** Returns a tensor's block to the free list. Freeing twice is an error. */
  release(t: Tensor): void {
    const rec = this.live.get(t.id);
    if (!rec || rec.offset !== t.offset) throw new DisposedError(`tensor #${t.id} was already released`);
    this.live.delete(t.id);
    let block: Block = { offset: rec.offset, bytes: rec.bytes };
    // keep the list sorted and merged with its neighbours
    let i = 0;
    while (i < this.free.length && this.free[i].offset < block.offset) i++;
    const prev = this.free[i - 1];
    if (prev && prev.offset + prev.bytes === block.offset) {
      prev.bytes += block.bytes;
      block = prev;
      i--;
    } else {
      this.free.splice(i, 0, block);
    }
    const next = this.free[i + 1];
    if (next && block.offset + block.bytes === next.offset) {
      block.bytes += next.bytes;
      this.free.splice(i + 1, 1);
    }
    // a free block at the top shrinks the used region instead
    const last = this.free[this.free.length - 1];
    if (last && last.offset + last.bytes === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }

  /** A view of t's values; valid until the next call that may grow memory. */
  f32(t: Tensor): Float32Array {
    this.renew();
    return this.f32View.subarray(t.offset >>> 2, (t.offset >>> 2) + t.size);
  }

  i32(t: Tensor): Int32Array {
    this.renew();
    return this.i32View.subarray(t.offset >>> 2, (t.offset >>> 2) + t.size);
  }

  /** A view of t's bytes (4·size of them): for i8/i16 data such as the int8 path's. */
  bytes(t: Tensor): Uint8Array {
    return new Uint8Array(this.memory.buffer, t.offset, t.size * 4);
  }

  /** A copy of t's values, owned by the caller. */
  read(t: Tensor, count = t.size): Float32Array {
    return this.f32(t).slice(0, count);
  }

  /** Copies values into t starting at element `at`. */
  write(t: Tensor, values: ArrayLike<number>, at = 0): void {
    if (at + values.length > t.size) {
      throw new RuntimeError(`Arena.write: ${values.length} values at ${at} overflow a tensor of ${t.size}`);
    }
    this.f32(t).set(values, at);
  }

  /** How many tensors are allocated and not yet released (for leak tests). */
  liveTensors(): number {
    return this.live.size;
  }

  /** Bytes held by live tensors. */
  bytesInUse(): number {
    let n = 0;
    for (const t of this.live.values()) n += t.bytes;
    return n;
  }

  private grow(pages: number): boolean {
    try {
      this.memory.grow(pages);
      return true;
    } catch {
      return false;
    }
  }

  private u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private renew(): void {
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this.f32View = new Float32Array(this.buffer);
      this.i32View = new Int32Array(this.buffer);
    }
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
