// Raw access to a fresh core for kernel tests: a bump allocator over its memory, and views.
// Model-level tests use the public API (and its Arena) instead.
import { createCore, detectFeatures } from '../../src/runtime/load.js';
import type { CoreExports } from '../../src/runtime/abi.js';
import { DEBUG_WASM_BASE64 } from './wasm-debug-bytes.js';

/**
 * The builds of the core: the two shipped ones, and `debug` (the strict build with
 * AssemblyScript's asserts on, unoptimised; scripts/build-wasm.mjs), on which the kernel tests
 * run too, so a kernel called against its preconditions fails with a message instead of
 * computing garbage. The debug build computes the strict build's bits.
 */
export type Build = 'strict' | 'relaxed' | 'debug';
export const BUILDS: readonly Build[] = ['strict', 'relaxed', 'debug'];
/** The builds this engine runs (relaxed needs relaxed SIMD: Node 20 only with its flag). */
export const RUNNABLE_BUILDS: readonly Build[] = BUILDS.filter((b) => b !== 'relaxed' || detectFeatures().relaxedSimd);

/** The debug build's bytes (inlined as base64 by scripts/build-wasm.mjs, so Chromium needs no fetch). */
export function debugWasm(): Uint8Array<ArrayBuffer> {
  const bin = atob(DEBUG_WASM_BASE64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

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

const cache = new Map<Build, Promise<Scratch>>();
/** One core per test file and build; call scratch.reset() between cases if memory matters. */
export function scratchCore(build: Build = 'strict'): Promise<Scratch> {
  let p = cache.get(build);
  if (!p) {
    const core = build === 'debug' ? createCore({ module: debugWasm(), simd: 'strict' }) : createCore({ simd: build });
    p = core.then((c) => new Scratch(c.exports));
    cache.set(build, p);
  }
  return p;
}
