import { DisposedError, RuntimeError } from '../errors.js';
import type { Core } from './load.js';
import { KERNELS, type AnyKernel, type CoreExports, type KernelName } from './abi.js';
import type { Pool } from './threads.js';

/**
 * A handle to a block of f32 (or i32) slots in linear memory. Never a bare number: the Arena
 * knows every live handle, so leaks are countable and a freed handle cannot be used again.
 */
export interface Tensor {
  /** 0 for a view (see Arena.view), which the arena does not own. */
  readonly id: number;
  /** Byte offset into linear memory: 64-byte aligned for an allocation, 4-byte for a view. */
  readonly offset: number;
  /** Number of 4-byte elements: the product of `shape`. */
  readonly size: number;
  /** The shape the values have (row-major); [size] when allocated by count. */
  readonly shape: readonly number[];
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
  /** The core's kernels, as every caller reaches them (see wrapKernels). */
  get ex(): CoreExports {
    return this.kernels;
  }
  private kernels: CoreExports;
  private readonly memory: WebAssembly.Memory;
  private free: Block[] = [];
  private top: number;
  private nextId = 1;
  private readonly live = new Map<number, Tensor & { bytes: number }>();
  private buffer: ArrayBuffer | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);
  /** Bytes the allocations inside construct() may still take (Infinity outside one). */
  private allowance = Infinity;
  private refuse: ((bytes: number) => Error) | null = null;

  /** The worker pool computing on this memory (threaded core), or null. */
  pool: Pool | null = null;
  /** Bytes the memory may grow to: a shared memory's fixed maximum, or Infinity. */
  private readonly maxBytes: number;

  constructor(core: Core) {
    this.kernels = core.exports;
    this.memory = core.memory;
    this.top = align(core.exports.heap_base());
    this.maxBytes = core.shared?.maxBytes ?? Infinity;
  }

  /**
   * `bytes` of memory for the life of the core (the thread pool's control block and scratch):
   * zero-filled, 64-byte aligned, not a tensor (never released, not counted by liveTensors()).
   * Only before any tensor is allocated.
   */
  reserve(bytes: number): number {
    if (this.live.size > 0 || this.free.length > 0) throw new RuntimeError('Arena.reserve: only before the first allocation');
    const t = this.alloc(Math.ceil(bytes / 4));
    this.live.delete(t.id);
    return t.offset;
  }

  /** Allocates n 4-byte slots, zero-filled; given a shape, as many as it holds. */
  alloc(n: number | readonly number[]): Tensor {
    const shape = typeof n === 'number' ? [n] : [...n];
    if (typeof n !== 'number') n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n < 0 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RuntimeError(`Arena.alloc: sizes must be non-negative integers, got ${shape.join(' × ')}`);
    }
    const bytes = align(Math.max(n, 1) * 4);
    if (bytes > this.allowance) throw this.refuse!(bytes);
    this.allowance -= bytes;
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
          const limit =
            this.maxBytes === Infinity
              ? ''
              : ` (the threaded core's shared memory is limited to ${this.maxBytes / 1048576} MiB: init({ maxMemoryMiB }) raises it, up to 4096)`;
          throw new RuntimeError(`out of WebAssembly memory: could not grow to ${this.top + bytes} bytes${limit}`);
        }
      }
    }
    const t = { id: this.nextId++, offset, size: n, shape, bytes };
    this.live.set(t.id, t);
    this.u8().fill(0, offset, offset + bytes);
    return t;
  }

  /**
   * Runs fn as one construction: its allocations are capped at `bytes` in total (one beyond the
   * cap throws refuse(requested) before memory grows; releases inside fn do not raise the cap),
   * and if fn throws, every tensor it allocated that is still live is released, so a failed
   * construction leaks nothing. Loading a model file builds what its config claims this way,
   * under a cap taken from the file's real size: a claimed size cannot grow the memory (which
   * never shrinks).
   */
  construct<T>(bytes: number, refuse: (requested: number) => Error, fn: () => T): T {
    const saved = { allowance: this.allowance, refuse: this.refuse };
    const start = (this.allowance = Math.min(bytes, saved.allowance));
    this.refuse = refuse;
    const firstId = this.nextId; // ids only grow: those from here on are fn's
    try {
      return fn();
    } catch (e) {
      for (const t of [...this.live.values()]) if (t.id >= firstId) this.release(t);
      throw e;
    } finally {
      this.allowance = saved.allowance - (start - this.allowance); // an outer cap pays for what fn took
      this.refuse = saved.refuse;
    }
  }

  /**
   * A handle to `shape` values of t starting at element `start`: the same memory, not owned
   * (never released; valid while t is). How a model's flat buffers give each layer its part.
   */
  view(t: Tensor, start: number, shape: readonly number[]): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(start) || start < 0 || start + size > t.size) {
      throw new RuntimeError(`Arena.view: [${start}, ${start + size}) is outside a tensor of ${t.size}`);
    }
    return { id: 0, offset: t.offset + start * 4, size, shape: [...shape] };
  }

  /** Returns a tensor's block to the free list. Freeing twice is an error, as is freeing a view. */
  release(t: Tensor): void {
    if (t.id === 0) throw new RuntimeError('Arena.release: a view is not owned; release the tensor it views');
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

  /**
   * Routes every kernel of the table through `wrap(name, kernel)` (the function to call instead)
   * until the returned function is called: how the thread pool turns a worker's failure into
   * its error, and how bench/profile.mjs times each kernel.
   */
  wrapKernels(wrap: (name: KernelName, kernel: AnyKernel) => AnyKernel): () => void {
    const raw = this.kernels;
    const wrapped: Record<string, unknown> = { memory: raw.memory };
    for (const name of Object.keys(KERNELS) as KernelName[]) wrapped[name] = wrap(name, raw[name] as AnyKernel);
    this.kernels = wrapped as unknown as CoreExports;
    return () => {
      this.kernels = raw;
    };
  }

  /** Bytes of linear memory now (grows, never shrinks). */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
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
