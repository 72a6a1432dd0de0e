// The one place that finds, checks and instantiates the WebAssembly core, in every runtime:
// - no module given: the strict build is inlined (base64, src/runtime/wasm-bytes.ts), so Node,
//   browsers, Deno and Bun need no fetch, no fs and no bundler configuration. The relaxed build
//   lives in its own module (wasm-relaxed-bytes.ts), imported dynamically only when asked for, so
//   it never weighs on an app that does not use it.
// - a module given (`init({ module })`): where compiling from bytes is forbidden (Cloudflare
//   Workers / workerd, Vercel Edge) the `.wasm` is imported as a module:
//   `import wasm from 'latent-wasm/wasm'`. Bytes are accepted too.
// No runtime sniffing: the same code path runs everywhere; only WebAssembly itself is probed.
// The exported types name no DOM or WebAssembly lib type (the published .d.ts compiles with
// `"lib": ["ES2022"]` alone): a module is an `object`, bytes are an ArrayBuffer or a view on one.
import { RuntimeError } from '../errors.js';
import { STRICT_WASM_BASE64 } from './wasm-bytes.js';
import type { CoreExports, CoreMemory } from './abi.js';

/** Which build of the core runs: `strict` (plain SIMD128, the same bits on every engine) or
 *  `relaxed` (relaxed-simd FMA: faster, results may differ in the last bits between engines). */
export type SimdMode = 'strict' | 'relaxed';

/** A compiled `WebAssembly.Module` (typed as an object so that no WebAssembly lib is needed). */
export type CompiledModule = object;

export interface InitOptions {
  /** A compiled module or its bytes. Needed where compiling from bytes is forbidden (Workers):
   *  `import wasm from 'latent-wasm/wasm'; await init({ module: wasm })`. For the relaxed build
   *  (`latent-wasm/wasm-relaxed`) say so: `init({ module, simd: 'relaxed' })`. */
  module?: CompiledModule | ArrayBuffer | ArrayBufferView<ArrayBuffer>;
  /** Default 'strict'. 'relaxed' is used only if the engine validates relaxed SIMD. */
  simd?: SimdMode;
  /**
   * Threads for large products: 1 (the default), a count, or 'auto' (the cores, at most 8).
   * More than one needs shared memory and workers (Node, Deno, Bun; browsers only in
   * cross-origin-isolated pages); elsewhere, and with `module`, the core runs on one thread and
   * `runtimeInfo()` says so. Results are the same bits for any count.
   */
  threads?: number | 'auto';
  /** Upper bound of the threaded core's shared memory in MiB (default 1024, at most 4096). */
  maxMemoryMiB?: number;
}

/** An instantiated core: its exports and its memory. The Arena is the only owner of the memory. */
export interface Core {
  readonly exports: CoreExports;
  readonly memory: CoreMemory;
  readonly simd: SimdMode;
  /** The threaded build on shared memory (its module, for the workers' instances), or null. */
  readonly shared: { readonly module: CompiledModule; readonly maxBytes: number } | null;
}

// Probe modules from wasm-feature-detect: a function returning a v128 (i32x4.splat), and one
// using f32x4.relaxed_madd... (i8x16.relaxed_swizzle). Validation compiles nothing.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253,
  15, 253, 128, 2, 11,
]);

/** Name of the custom section scripts/build-wasm.mjs appends to each build: 'strict', 'relaxed' or
 *  'debug' (the strict build with AssemblyScript's asserts on, for the kernel tests). */
const BUILD_SECTION = 'latent-wasm:build';
type Build = SimdMode | 'debug' | 'threads' | 'threads-relaxed';
const BUILDS: readonly Build[] = ['strict', 'relaxed', 'debug', 'threads', 'threads-relaxed'];
/** The threaded builds' memory: declared in asconfig.json (initialMemory, maximumMemory). */
const SHARED_INITIAL_PAGES = 4;
const MAX_MEMORY_MIB = 4096;
export const DEFAULT_MAX_MEMORY_MIB = 1024;

/** Which WebAssembly features this engine has. */
export function detectFeatures(): { simd: boolean; relaxedSimd: boolean } {
  if (typeof WebAssembly !== 'object') return { simd: false, relaxedSimd: false };
  return { simd: WebAssembly.validate(SIMD_PROBE), relaxedSimd: WebAssembly.validate(RELAXED_PROBE) };
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  // Uint8Array.fromBase64 (ES2026; recent browsers) is native; atob is everywhere else
  const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (typeof fromBase64 === 'function') return fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The build recorded in a module's custom section, or null for a module without one. */
function buildOf(mod: WebAssembly.Module): Build | null {
  const [section] = WebAssembly.Module.customSections(mod, BUILD_SECTION);
  if (!section) return null;
  const name = String.fromCharCode(...new Uint8Array(section));
  return (BUILDS as readonly string[]).includes(name) ? (name as Build) : null;
}

/** Whether this engine can run the threaded core: shared WebAssembly memory (a SharedArrayBuffer;
 *  in browsers only when cross-origin isolated). Workers are checked when the pool starts. */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * The imports of the core. Only the debug build imports anything: AssemblyScript's `env.abort`,
 * which a failed `assert` calls with its message, file, line and column (strings as the stub
 * runtime lays them out: UTF-16LE code units, their byte length in the u32 just before). The
 * release builds are compiled with noAssert and import nothing.
 */
function coreImports(memory: () => CoreMemory | undefined): WebAssembly.Imports {
  const text = (ptr: number): string => {
    const mem = memory();
    if (!mem || ptr < 4 || ptr > mem.buffer.byteLength) return '?';
    const bytes = new Uint32Array(mem.buffer, ptr - 4, 1)[0];
    if (ptr + bytes > mem.buffer.byteLength) return '?';
    return String.fromCharCode(...new Uint16Array(mem.buffer, ptr, bytes >>> 1));
  };
  const abort = (msg: number, file: number, line: number, column: number): never => {
    throw new RuntimeError(`core assertion failed: ${text(msg)} (${text(file)}:${line}:${column})`);
  };
  return { env: { abort } };
}

/**
 * Instantiates a fresh core. Most code wants `init()` + the shared Arena instead. With
 * `shared`, the threaded build on a new shared memory (its workers are started by threads.ts).
 */
export async function createCore(options: InitOptions = {}, shared = false): Promise<Core> {
  const simd = options.simd ?? 'strict';
  if (simd !== 'strict' && simd !== 'relaxed') {
    throw new RuntimeError(`init: options.simd must be 'strict' or 'relaxed', got ${String(simd)}`);
  }
  const features = detectFeatures();
  if (typeof WebAssembly !== 'object') {
    throw new RuntimeError('latent-wasm needs WebAssembly; this engine does not provide it');
  }
  if (!features.simd) {
    throw new RuntimeError(
      'latent-wasm needs WebAssembly SIMD (the fixed-width 128-bit "simd128" feature); this engine does not support it',
    );
  }
  if (simd === 'relaxed' && !features.relaxedSimd) {
    throw new RuntimeError(
      "init: simd: 'relaxed' was asked for, but this engine does not support relaxed SIMD " +
        '(Node 20 needs --experimental-wasm-relaxed-simd); use the default strict build',
    );
  }
  if (shared) return createSharedCore(simd, options.maxMemoryMiB ?? DEFAULT_MAX_MEMORY_MIB);
  let instance: WebAssembly.Instance;
  try {
    let source = options.module;
    if (source === undefined) {
      source = simd === 'relaxed' ? decodeBase64((await import('./wasm-relaxed-bytes.js')).RELAXED_WASM_BASE64) : decodeBase64(STRICT_WASM_BASE64);
    }
    const mod = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source as BufferSource);
    const build = buildOf(mod);
    // the debug build computes what the strict one does (the same SIMD128 code, asserts added)
    if (build === 'threads' || build === 'threads-relaxed') {
      throw new RuntimeError(`init: the module given is the ${build} build, which init() loads by itself; pass the ${simd} build`);
    }
    const mode = build === 'debug' ? 'strict' : build;
    if (mode !== null && mode !== simd) {
      throw new RuntimeError(
        `init: the module given is the ${build} build of latent-wasm, but simd: '${simd}' was asked for; ` +
          `pass init({ module, simd: '${mode}' }) or the ${simd} build ('latent-wasm/${simd === 'strict' ? 'wasm' : 'wasm-relaxed'}')`,
      );
    }
    // The release cores import nothing (stub runtime, no asserts, no abort). @assemblyscript/loader
    // is not used: it would offer the host's Math and Date to the module and adds weight for nothing.
    let memory: CoreMemory | undefined;
    instance = await WebAssembly.instantiate(mod, coreImports(() => memory));
    memory = instance.exports.memory as WebAssembly.Memory | undefined;
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError(`init: could not instantiate the WebAssembly core: ${(e as Error).message}`);
  }
  const exports = instance.exports as unknown as CoreExports & { memory: WebAssembly.Memory };
  if (typeof exports.heap_base !== 'function' || !(exports.memory instanceof WebAssembly.Memory)) {
    throw new RuntimeError('init: the module given is not the latent-wasm core');
  }
  return { exports, memory: exports.memory, simd, shared: null };
}

async function createSharedCore(simd: SimdMode, maxMiB: number): Promise<Core> {
  if (!Number.isInteger(maxMiB) || maxMiB < 1 || maxMiB > MAX_MEMORY_MIB) {
    throw new RuntimeError(`init: options.maxMemoryMiB must be an integer from 1 to ${MAX_MEMORY_MIB}, got ${String(maxMiB)}`);
  }
  const bytes = await import('./wasm-threads-bytes.js');
  const mod = await WebAssembly.compile(decodeBase64(simd === 'relaxed' ? bytes.THREADS_RELAXED_WASM_BASE64 : bytes.THREADS_WASM_BASE64));
  const pages = Math.max(SHARED_INITIAL_PAGES, maxMiB * 16);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: pages, shared: true });
  } catch (e) {
    throw new RuntimeError(`init: could not reserve ${maxMiB} MiB of shared memory (${(e as Error).message}); pass a smaller maxMemoryMiB`);
  }
  const instance = await WebAssembly.instantiate(mod, { env: { memory } });
  return { exports: instance.exports as unknown as CoreExports, memory, simd, shared: { module: mod, maxBytes: pages * 65536 } };
}
