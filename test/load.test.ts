// Loading the core: feature probes, init options, and clear errors for bad modules.
import { describe, expect, test } from 'vitest';
import { RuntimeError, detectFeatures, init, simdMode } from '../src/index.js';
import { createCore } from '../src/runtime/load.js';
import { STRICT_WASM_BASE64 } from '../src/runtime/wasm-bytes.js';

const bytes = () => Uint8Array.from(atob(STRICT_WASM_BASE64), (c) => c.charCodeAt(0));

describe('loading', () => {
  test('this engine has SIMD; the probes agree with the builds that instantiate', async () => {
    const f = detectFeatures();
    expect(f.simd).toBe(true);
    if (f.relaxedSimd) expect((await createCore({ simd: 'relaxed' })).simd).toBe('relaxed');
    else await expect(createCore({ simd: 'relaxed' })).rejects.toThrow(/relaxed SIMD/);
  });

  test('init accepts a compiled module or its bytes', async () => {
    const mod = await WebAssembly.compile(bytes());
    expect((await createCore({ module: mod })).exports.heap_base()).toBeGreaterThan(0);
    expect((await createCore({ module: bytes() })).exports.heap_base()).toBeGreaterThan(0);
  });

  test('a module that is not the core, or not wasm at all, is a RuntimeError', async () => {
    const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    await expect(createCore({ module: empty })).rejects.toThrow(RuntimeError);
    await expect(createCore({ module: empty })).rejects.toThrow(/not the latent-wasm core/);
    await expect(createCore({ module: new Uint8Array([1, 2, 3]) })).rejects.toThrow(/could not instantiate/);
    await expect(createCore({ simd: 'fast' as never })).rejects.toThrow(/'strict' or 'relaxed'/);
  });

  test('init is idempotent and refuses to switch builds', async () => {
    await init();
    await init();
    expect(simdMode()).toBe('strict');
    await expect(init({ simd: 'relaxed' })).rejects.toThrow(/already loaded/);
  });
});
