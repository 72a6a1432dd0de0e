import { checkKeys, describe } from '../data.js';
import { InputError, RuntimeError } from '../errors.js';
import { createCore, type Core, type InitOptions, type SimdMode } from './load.js';
import { Arena } from './memory.js';

let current: { core: Core; arena: Arena } | null = null;
let pending: Promise<void> | null = null;

/**
 * Loads the WebAssembly core once. In Node and browsers it needs no arguments (the module is
 * inlined); where compiling from bytes is forbidden pass the imported module:
 * `import wasm from 'latent-wasm/wasm'; await init({ module: wasm })`.
 * Calling it again is cheap; asking for another build once one is loaded is an error.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  if (typeof options !== 'object' || options === null) throw new InputError(`init options must be an object like { simd: 'relaxed' }; got ${describe(options)}`);
  checkKeys(options, ['module', 'simd'], 'init options');
  const simd = options.simd ?? 'strict';
  if (current) {
    if (current.core.simd !== simd) {
      throw new RuntimeError(`init: the ${current.core.simd} build is already loaded; cannot switch to ${simd}`);
    }
    return;
  }
  pending ??= createCore(options).then(
    (core) => {
      current = { core, arena: new Arena(core) };
    },
    (e) => {
      pending = null;
      throw e;
    },
  );
  await pending;
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
