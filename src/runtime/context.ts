import { checkKeys, describe } from '../data.js';
import { InputError, RuntimeError } from '../errors.js';
import { createCore, sharedMemoryAvailable, type Core, type InitOptions, type SimdMode } from './load.js';
import { Arena } from './memory.js';
import { startPool } from './threads.js';

let current: { core: Core; arena: Arena; threads: number } | null = null;
let pending: Promise<void> | null = null;

/** What runs the core here: its build, how many threads compute large products (the calling
 *  one included), and whether shared memory (the threaded core) is in use. */
export interface RuntimeInfo {
  simd: SimdMode;
  threads: number;
  sharedMemory: boolean;
}

const MAX_THREADS = 64;
const MAX_AUTO_THREADS = 8;
// A variable, so that bundlers leave Node's module alone (browsers have navigator).
const NODE_OS = 'node:os';

/** The cores here ('auto'): navigator.hardwareConcurrency, or Node's os.availableParallelism. */
async function cores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof nav?.hardwareConcurrency === 'number') return nav.hardwareConcurrency;
  try {
    return ((await import(/* @vite-ignore */ NODE_OS)) as typeof import('node:os')).availableParallelism();
  } catch {
    return 1;
  }
}

/**
 * Loads the WebAssembly core once. In Node and browsers it needs no arguments (the module is
 * inlined); where compiling from bytes is forbidden pass the imported module:
 * `import wasm from 'latent-wasm/wasm'; await init({ module: wasm })`.
 * `threads: 'auto' | n` splits large products across workers where shared memory exists (one
 * thread elsewhere: see runtimeInfo()); the results are the same bits for any thread count.
 * Calling it again is cheap; asking for another build once one is loaded is an error.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  if (typeof options !== 'object' || options === null) throw new InputError(`init options must be an object like { simd: 'relaxed' }; got ${describe(options)}`);
  checkKeys(options, ['module', 'simd', 'threads', 'maxMemoryMiB'], 'init options');
  const simd = options.simd ?? 'strict';
  const t = options.threads ?? 1;
  if (t !== 'auto' && !(Number.isInteger(t) && t >= 1 && t <= MAX_THREADS)) {
    throw new InputError(`init: options.threads must be 'auto' or an integer from 1 to ${MAX_THREADS}; got ${describe(t)}`);
  }
  const threads = t === 'auto' ? Math.max(1, Math.min(MAX_AUTO_THREADS, await cores())) : t;
  if (current) {
    if (current.core.simd !== simd) {
      throw new RuntimeError(`init: the ${current.core.simd} build is already loaded; cannot switch to ${simd}`);
    }
    if (options.threads !== undefined && current.threads !== threads) {
      throw new RuntimeError(`init: the core is already loaded for ${current.threads} thread(s); cannot switch to ${threads}`);
    }
    return;
  }
  pending ??= (async () => {
    const shared = threads > 1 && options.module === undefined && sharedMemoryAvailable();
    const core = await createCore(options, shared);
    const arena = new Arena(core);
    if (shared) arena.pool = await startPool(core, arena, threads);
    current = { core, arena, threads };
  })().catch((e: unknown) => {
    pending = null;
    throw e;
  });
  await pending;
}

/** Which build runs, on how many threads, with or without shared memory. */
export function runtimeInfo(): RuntimeInfo {
  if (!current) throw new RuntimeError('latent-wasm is not initialized: call `await init()` first');
  return { simd: current.core.simd, threads: current.arena.pool?.threads ?? 1, sharedMemory: current.core.shared !== null };
}

/** The shared Arena; throws if init() has not completed. */
export function arena(): Arena {
  if (!current) throw new RuntimeError('latent-wasm is not initialized: call `await init()` first');
  return current.arena;
}

/** Which build is loaded, or null before init(). */
export function simdMode(): SimdMode | null {
  return current?.core.simd ?? null;
}

/** Tensors currently allocated in linear memory (0 when every model has been disposed). */
export function liveTensors(): number {
  return current ? current.arena.liveTensors() : 0;
}
