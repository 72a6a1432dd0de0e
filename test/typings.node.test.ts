// The published declarations compile in a Node-only TypeScript project: `"lib": ["ES2022"]`, no
// DOM, `skipLibCheck: false`, only Node's types. The packed tarball (as in packaging.node.test.ts)
// is installed into a fresh project whose program imports every entry, and tsc checks it all.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { packedApp, root, run, type PackedApp } from './runtimes/package.js';

let app: PackedApp;
let dir: string;
beforeAll(async () => {
  app = await packedApp();
  dir = mkdtempSync(join(tmpdir(), 'latent-wasm-typings-'));
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(join(app.dir, 'node_modules', 'latent-wasm'), join(dir, 'node_modules', 'latent-wasm'), 'dir');
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  symlinkSync(join(root, 'node_modules', 'undici-types'), join(dir, 'node_modules', 'undici-types'), 'dir'); // @types/node's one dependency
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'typings-check', private: true, type: 'module' }));
}, 180_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs tsc over `source` in the Node-only project; returns its exit code and output. */
async function check(source: string): Promise<{ code: number | null; out: string }> {
  writeFileSync(join(dir, 'main.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
      },
      files: ['main.ts'],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, timeoutMs: 120_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('the published .d.ts in a Node-only project (lib ES2022, no DOM, skipLibCheck false)', () => {
  test('type-checks a program that uses every entry: latent-wasm, latent-wasm/node, latent-wasm/internal', async () => {
    const { code, out } = await check(`
import { init, detectFeatures, Autoencoder, VAE, ConvAutoencoder, loadModel, type InitOptions } from 'latent-wasm';
import { saveFile, loadFile } from 'latent-wasm/node';
import { kernels, KERNELS, ACTIVATIONS, type KernelName } from 'latent-wasm/internal';
import { readFileSync } from 'node:fs';

const wasm = readFileSync(new URL(import.meta.resolve('latent-wasm/wasm')));
const options: InitOptions = { module: wasm, simd: 'strict' };
const features: { simd: boolean; relaxedSimd: boolean } = detectFeatures();
await init(features.simd ? options : {});
const ae = new Autoencoder({ inputSize: 4, latentSize: 2, seed: 1 });
const bytes: Uint8Array = ae.save();
const same = loadModel(bytes);
await saveFile(same, 'model.safetensors');
const back = await loadFile('model.safetensors');
const vae: VAE | ConvAutoencoder | undefined = undefined;
const name: KernelName = 'f32_gemm_nn';
const arity: number = KERNELS[name].args.length + ACTIVATIONS.relu;
kernels().fill(kernels().arena.alloc(4), 0);
console.log(back, vae, arity);
`);
    expect(out).toBe('');
    expect(code).toBe(0);
  });

  test('and the types are real: a wrong option and a wrong kernel name are compile errors', async () => {
    const { code, out } = await check(`
import { init } from 'latent-wasm';
import type { KernelName } from 'latent-wasm/internal';
await init({ simd: 'fast' });
const k: KernelName = 'f32_gemm_xx';
console.log(k);
`);
    expect(code).not.toBe(0);
    expect(out).toMatch(/main\.ts\(4,\d+\): error TS2322: Type '"fast"' is not assignable to type 'SimdMode/);
    expect(out).toMatch(/main\.ts\(5,\d+\): error TS\d+: Type '"f32_gemm_xx"' is not assignable to type/);
    expect(out).not.toMatch(/node_modules/); // nothing wrong in the package itself
  });
});
