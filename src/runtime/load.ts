import { instantiate } from '@assemblyscript/loader';
import { RuntimeError } from '../errors.js';
import { STRICT_WASM_BASE64, RELAXED_WASM_BASE64 } from './wasm-bytes.js';
import type { CoreExports } from './abi.js';

/** Which build of the core runs: `strict` (plain SIMD128, the same bits on every engine) or
 *  `relaxed` (relaxed-simd FMA: faster, results may differ in the last bits between engines). */
export type SimdMode = 'strict' | 'relaxed';

export interface InitOptions {
  /** A compiled module or its bytes. Needed where compiling from bytes is forbidden (Workers):
   *  `import wasm from 'latent-wasm/wasm'; await init({ module: wasm })`. */
  module?: WebAssembly.Module | BufferSource;
  /** Default 'strict'. 'relaxed' is used only if the engine validates relaxed SIMD. */
  simd?: SimdMode;
}

/** An instantiated core: its exports and its memory. The Arena is the only owner of the memory. */
export interface Core {
  readonly exports: CoreExports;
  readonly memory: WebAssembly.Memory;
  readonly simd: SimdMode;
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

/** Which WebAssembly features this engine has. */
export function detectFeatures(): { simd: boolean; relaxedSimd: boolean } {
  if (typeof WebAssembly !== 'object') return { simd: false, relaxedSimd: false };
  return { simd: WebAssembly.validate(SIMD_PROBE), relaxedSimd: WebAssembly.validate(RELAXED_PROBE) };
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Instantiates a fresh core. Most code wants `init()` + the shared Arena instead. */
export async function createCore(options: InitOptions = {}): Promise<Core> {
  const simd = options.simd ?? 'strict';
  if (simd !== 'strict' && simd !== 'relaxed') {
    throw new RuntimeError(`init: options.simd must be 'strict' or 'relaxed', got ${String(simd)}`);
  }
  const features = detectFeatures();
  if (!features.simd) {
    throw new RuntimeError('latent-wasm needs WebAssembly SIMD (128-bit); this engine does not support it');
  }
  if (simd === 'relaxed' && !features.relaxedSimd) {
    throw new RuntimeError(
      "init: simd: 'relaxed' was asked for, but this engine does not support relaxed SIMD " +
        '(Node 20 needs --experimental-wasm-relaxed-simd); use the default strict build',
    );
  }
  const source = options.module ?? decodeBase64(simd === 'relaxed' ? RELAXED_WASM_BASE64 : STRICT_WASM_BASE64);
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = await instantiate<Record<string, unknown>>(source as WebAssembly.Module, {}));
  } catch (e) {
    throw new RuntimeError(`init: could not instantiate the WebAssembly core: ${(e as Error).message}`);
  }
  const exports = instance.exports as unknown as CoreExports & { memory: WebAssembly.Memory };
  if (typeof exports.heap_base !== 'function' || !(exports.memory instanceof WebAssembly.Memory)) {
    throw new RuntimeError('init: the module given is not the latent-wasm core');
  }
  return { exports, memory: exports.memory, simd };
}
