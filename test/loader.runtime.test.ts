// The loader's choices, in Node and in Chromium: a clear error naming the missing feature when
// SIMD is absent, relaxed SIMD only when asked and available, and a module given to init that
// must match the build asked for (each .wasm names its build in a custom section).
import { afterEach, describe, expect, test, vi } from 'vitest';
import { RuntimeError, detectFeatures } from '../src/index.js';
import { createCore } from '../src/runtime/load.js';
import { STRICT_WASM_BASE64 } from '../src/runtime/wasm-bytes.js';
import { RELAXED_WASM_BASE64 } from '../src/runtime/wasm-relaxed-bytes.js';

const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const buildOf = (b64: string) =>
  new TextDecoder().decode(WebAssembly.Module.customSections(new WebAssembly.Module(decode(b64)), 'latent-wasm:build')[0]);

/** Makes WebAssembly.validate refuse the probe modules (up to `validCalls` accepted first). */
function engineWithout(feature: 'simd' | 'relaxed') {
  const real = WebAssembly.validate.bind(WebAssembly);
  let call = 0;
  vi.spyOn(WebAssembly, 'validate').mockImplementation((bytes) => {
    const n = call++ % 2; // detectFeatures probes SIMD, then relaxed SIMD
    if (feature === 'simd') return false;
    return n === 1 ? false : real(bytes);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('feature detection', () => {
  test('without SIMD, init fails with a RuntimeError that names the feature', async () => {
    engineWithout('simd');
    expect(detectFeatures()).toEqual({ simd: false, relaxedSimd: false });
    await expect(createCore()).rejects.toThrow(RuntimeError);
    await expect(createCore()).rejects.toThrow(/WebAssembly SIMD \(the fixed-width 128-bit "simd128" feature\)/);
  });

  test('without relaxed SIMD, the default still loads and relaxed is refused, never silently replaced', async () => {
    engineWithout('relaxed');
    expect((await createCore()).simd).toBe('strict');
    await expect(createCore({ simd: 'relaxed' })).rejects.toThrow(/does not support relaxed SIMD/);
  });
});

describe('the two builds', () => {
  test('each .wasm names its build; the default is strict', async () => {
    expect(buildOf(STRICT_WASM_BASE64)).toBe('strict');
    expect(buildOf(RELAXED_WASM_BASE64)).toBe('relaxed');
    expect((await createCore()).simd).toBe('strict');
  });

  test('a module given to init must match the simd asked for, and the error says what to pass', async () => {
    const relaxed = decode(RELAXED_WASM_BASE64);
    const strict = await WebAssembly.compile(decode(STRICT_WASM_BASE64));
    if (detectFeatures().relaxedSimd) {
      await expect(createCore({ module: relaxed })).rejects.toThrow(/relaxed build.*simd: 'relaxed'/);
      expect((await createCore({ module: relaxed, simd: 'relaxed' })).simd).toBe('relaxed');
    }
    if (detectFeatures().relaxedSimd) {
      await expect(createCore({ module: strict, simd: 'relaxed' })).rejects.toThrow(/strict build.*latent-wasm\/wasm-relaxed/);
    }
    expect((await createCore({ module: strict })).simd).toBe('strict');
  });
});
