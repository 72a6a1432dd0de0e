// A browser app bundled by Vite from the packed package, loaded in headless Chromium under a
// Content-Security-Policy without 'unsafe-eval': it trains and encodes with no .wasm copied by
// hand, gives Node's bits, and fits the size budget (JS + inlined wasm < 80 KB gzipped).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser } from 'playwright';
import * as lib from '../src/index.js';
import { hashRun } from './runtimes/fixtures/hash-run.mjs';
import { packedApp, type PackedApp } from './runtimes/package.js';
import { buildApp, bundleModule, serve, type AppBuild } from './runtimes/browser.js';

type HashResult = Awaited<ReturnType<typeof hashRun>>;
const KB = 1024;

let app: PackedApp;
let built: AppBuild;
let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  app = await packedApp();
  built = await buildApp(app.dir);
  server = await serve(built.outDir);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function runPage(query: string): Promise<{ result: HashResult & { error?: string }; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  try {
    await page.goto(server.url + query);
    await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, null, { timeout: 60_000 });
    const result = await page.evaluate(() => (window as unknown as { __result: HashResult & { error?: string } }).__result);
    return { result, errors };
  } finally {
    await page.close();
  }
}

describe('bundled with Vite, in Chromium', () => {
  test('trains and encodes under a CSP without unsafe-eval, with the same bits as Node', async () => {
    const node = await hashRun(lib);
    const before = server.requests.length;
    const { result, errors } = await runPage('');
    expect(result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result).toEqual(node);
    // only the page and its startup JS: no .wasm fetched, the relaxed chunk not loaded
    const fetched = server.requests.slice(before).filter((p) => p !== '/favicon.ico');
    expect(fetched.filter((p) => p.endsWith('.wasm'))).toEqual([]);
    expect(fetched.filter((p) => built.lazyJs.some((c) => p.endsWith(c.file)))).toEqual([]);
  });

  test("init({ simd: 'relaxed' }) loads the relaxed chunk lazily and trains", async () => {
    const before = server.requests.length;
    const { result, errors } = await runPage('?simd=relaxed');
    expect(result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result.simd).toBe('relaxed');
    expect(result.loss[2]).toBeLessThan(result.loss[0]);
    const fetched = server.requests.slice(before);
    expect(built.lazyJs.some((c) => fetched.some((p) => p.endsWith(c.file)))).toBe(true);
  });

  // The app imports the whole namespace, so nothing is tree-shaken: every model, the detectors,
  // metrics, streaming, int8 models and kernels, the ONNX writer, image tiling. 0.1.0 (models and
  // files only) measured 53 KB against a 60 KB budget; 0.2.0 with all of the above measured
  // 71.9 KB against 75 KB. 0.3.0 measures 77.9 KB: the faster activations and optimizer kernels
  // (the strict core 51.7 → 57.0 KB raw), the thread pool's loader, int8 convolutions and the
  // int8 ONNX writer; the budget is 80 KB, which still catches an accidental dependency or a
  // duplicated module (a subpath for the ONNX writer would take it back down).
  test('the whole package for a browser app is under 80 KB gzipped', () => {
    const gz = built.startupJs.reduce((s, c) => s + c.gzip, 0);
    const raw = built.startupJs.reduce((s, c) => s + c.bytes, 0);
    const lazy = built.lazyJs.reduce((s, c) => s + c.gzip, 0);
    console.log(
      `browser app startup JS (with the inlined strict core): ${(raw / KB).toFixed(1)} KB minified, ` +
        `${(gz / KB).toFixed(1)} KB gzipped; relaxed chunk on demand: ${(lazy / KB).toFixed(1)} KB gzipped`,
    );
    expect(gz).toBeLessThan(80 * KB);
  });

  test('tree-shaking: importing detectFeatures alone leaves the models and the inlined core out', async () => {
    const code = await bundleModule(app.dir, 'shake.mjs');
    console.log(`detectFeatures alone: ${(code.length / KB).toFixed(2)} KB minified`);
    expect(code).not.toMatch(/AGFzbQ/); // base64 of "\0asm": no inlined module
    expect(code).not.toMatch(/Autoencoder/);
    expect(code.length).toBeLessThan(4 * KB);
  });
});
