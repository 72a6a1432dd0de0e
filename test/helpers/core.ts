// Raw access to a fresh core for kernel tests: a bump allocator over its memory, and views.
// Model-level tests use the public API (and its Arena) instead.
import { createCore, type SimdMode } from '../../src/runtime/load.js';
import type { CoreExports } from '../../src/runtime/abi.js';

export class Scratch {
  private top: number;
  private readonly base: number;
  constructor(readonly ex: CoreExports) {
    this.base = this.top = (ex.heap_base() + 63) & ~63;
  }
  /** Allocates n 4-byte slots (16-byte aligned), zero-filled. */
  alloc(n: number): number {
    const ptr = this.top;
    this.top = (this.top + Math.max(n, 1) * 4 + 15) & ~15;
    const need = this.top - this.ex.memory.buffer.byteLength;
    if (need > 0) this.ex.memory.grow(Math.ceil(need / 65536));
    new Uint8Array(this.ex.memory.buffer, ptr, n * 4).fill(0);
    return ptr;
  }
  /** Allocates and copies data in. */
  put(data: ArrayLike<number>): number {
    const ptr = this.alloc(data.length);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }
  putI32(data: ArrayLike<number>): number {
    const ptr = this.alloc(data.length);
    this.i32(ptr, data.length).set(data);
    return ptr;
  }
  /** A fresh view (views die when memory grows). */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.ex.memory.buffer, ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.ex.memory.buffer, ptr, n);
  }
  u32(ptr: number, n: number): Uint32Array {
    return new Uint32Array(this.ex.memory.buffer, ptr, n);
  }
  /** A copy of the values, safe to keep. */
  read(ptr: number, n: number): Float32Array {
    return this.f32(ptr, n).slice();
  }
  reset(): void {
    this.top = this.base;
  }
}

const cache = new Map<SimdMode, Promise<Scratch>>();
/** One core per test file and build; call scratch.reset() between cases if memory matters. */
export function scratchCore(simd: SimdMode = 'strict'): Promise<Scratch> {
  let p = cache.get(simd);
  if (!p) {
    p = createCore({ simd }).then((c) => new Scratch(c.exports));
    cache.set(simd, p);
  }
  return p;
}
