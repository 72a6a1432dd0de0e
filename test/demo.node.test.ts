// The demo page (demo/), built with Vite and served statically on 127.0.0.1 under a strict CSP and
// without cross-origin isolation, driven in Debian's Chromium by Playwright: it trains an
// Autoencoder and a VAE for one epoch in its worker; the loss falls (and equals Node's to the
// bit), every visible canvas is drawn, nothing is logged as an error, the main thread stays
// within 50 ms per task while training, and the downloaded model file loads in Node and back into
// the page. Screenshots go to test/artifacts/ (not committed).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright';
import { Autoencoder, init } from '../src/index.js';
import { decodeDigits } from '../demo/digits.js';
import { loadMnist } from '../examples/load-mnist.mjs';
import { serve } from './runtimes/browser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'demo');
const artifacts = join(root, 'test', 'artifacts');
const KB = 1024;
let digits: ReturnType<typeof loadMnist> | null = null;
const mnist = () => (digits ??= loadMnist());

let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  execFileSync(process.execPath, [join(demo, 'make-data.mjs')], { stdio: 'inherit' });
  const { build } = await import('vite');
  await build({ root: demo, configFile: join(demo, 'vite.config.ts'), logLevel: 'warn' });
  server = await serve(join(demo, 'dist'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 60_000,
  });
  mkdirSync(artifacts, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface DemoState {
  phase: string;
  curve: { x: number; train?: number; val?: number }[];
  views: number;
  errors: string[];
  slowestMessageMs: number;
  dataRequestedAt: number;
}

/** Opens the page with a longtask observer installed before any of its scripts run. */
async function open(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __longtasks: { start: number; duration: number }[] };
    w.__longtasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(server.url);
  await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.phase === 'idle', null, { timeout: 60_000 });
  return { page, errors };
}

/**
 * The renderer main thread's tasks in a Chrome trace: the longest wall time and the longest CPU
 * time (`tdur`) of one task. On a loaded machine a task can wait for a core well past 50 ms of
 * wall time while doing a millisecond of work; the CPU time tells the page's own work apart.
 */
function mainThreadTasks(trace: Buffer): { count: number; worstWallMs: number; worstCpuMs: number } {
  type Event = { ph: string; name: string; pid: number; tid: number; dur?: number; tdur?: number; args?: { name?: string } };
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: Event[] }).traceEvents;
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const tasks = events.filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && main.has(`${e.pid}:${e.tid}`));
  return {
    count: tasks.length,
    worstWallMs: Math.max(0, ...tasks.map((t) => (t.dur ?? 0) / 1000)),
    worstCpuMs: Math.max(0, ...tasks.map((t) => (t.tdur ?? Infinity) / 1000)),
  };
}

/** Trains the chosen model for one epoch; returns the curve and the main thread's long tasks
 *  meanwhile (longtask observer) with a trace of its tasks. */
async function trainOneEpoch(page: Page, model: string) {
  await page.selectOption('#model', model);
  await page.fill('#epochs', '1');
  const t0 = await page.evaluate(() => performance.now());
  await browser.startTracing(page, { categories: ['toplevel'] });
  await page.click('#start');
  await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.phase === 'done', null, { timeout: 60_000 });
  const tasks = mainThreadTasks(await browser.stopTracing());
  // the last views message follows 'done' by at most one message
  await page.waitForTimeout(200);
  const run = await page.evaluate((start) => {
    const w = window as unknown as { __demo: DemoState; __longtasks: { start: number; duration: number }[] };
    return {
      state: w.__demo,
      longtasks: w.__longtasks.filter((t) => t.start >= start),
      progress: document.getElementById('progress-text')!.innerText,
    };
  }, t0);
  return { ...run, tasks };
}

/** Pixel variance of every canvas the page shows (a blank or one-colour canvas gives 0), read
 *  back by the worker that draws them. */
async function canvasVariances(page: Page) {
  const visible = await page.evaluate(() => Array.from(document.querySelectorAll('canvas')).filter((c) => c.offsetParent !== null).map((c) => c.id));
  const variances = await page.evaluate(() => (window as unknown as { __demo: { inspect(): Promise<Record<string, number>> } }).__demo.inspect());
  return visible.map((id) => ({ id, variance: variances[id] }));
}

function expectTrained(run: Awaited<ReturnType<typeof trainOneEpoch>>) {
  const val = run.state.curve.filter((p) => p.val !== undefined).map((p) => p.val!);
  const train = run.state.curve.filter((p) => p.train !== undefined).map((p) => p.train!);
  expect(run.state.errors).toEqual([]);
  // validated before training and 5 times during the epoch; the held-out loss falls, and so does
  // the training loss from the first window to the last
  expect(val.length).toBe(6);
  expect(val.at(-1)!).toBeLessThan(val[0] * 0.8);
  expect(train.at(-1)!).toBeLessThan(train[0]);
  expect(run.progress).toMatch(/^Epoch 1\/1 · batch (\d+)\/\1\n[\d,]+ samples\/s · loss /);
  // The 50 ms bound on the main thread while training. The longtask observer measures wall time;
  // on a machine with more runnable threads than cores a task that works for a millisecond can
  // wait past 50 ms for a core (seen here at load 13-22 on 2 cores: long tasks of 50-145 ms whose
  // CPU time was at most 7 ms). So where the machine is not overloaded the observer must see no
  // long task at all, and everywhere no task of the main thread may work for 50 ms (its CPU
  // time in the trace); the page's message handlers (timed in wall time) are held to the bound
  // where the observer is.
  expect(run.tasks.count).toBeGreaterThan(0);
  expect(run.tasks.worstCpuMs).toBeLessThan(50);
  if (loadavg()[0] < cpus().length) {
    expect(run.longtasks).toEqual([]);
    expect(run.state.slowestMessageMs).toBeLessThan(50);
  }
  return val;
}

describe('the demo page, built and served statically, in Chromium', () => {
  test('the digits file holds the project split, bit for bit', () => {
    const d = decodeDigits(new Uint8Array(gunzipSync(readFileSync(join(demo, 'public', 'mnist-digits.bin')))));
    const ref = mnist();
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(d.train.length).toBe(ref.train.length);
    expect(d.test.length).toBe(ref.test.length);
    expect(bits(d.train).equals(bits(ref.train))).toBe(true);
    expect(bits(d.test).equals(bits(ref.test))).toBe(true);
    expect(d.trainLabels).toEqual(ref.trainLabels);
    expect(d.testLabels).toEqual(ref.testLabels);
    expect([...d.pair].map((i) => d.testLabels[i])).toEqual([2, 7]);
  });

  test('trains an Autoencoder, then a VAE, for one epoch each; every view is drawn; the page stays responsive', async () => {
    const { page, errors } = await open();
    try {
      // the digits are fetched after the first paint
      const timing = await page.evaluate(() => ({
        paint: performance.getEntriesByName('first-paint')[0]?.startTime,
        data: (window as unknown as { __demo: DemoState }).__demo.dataRequestedAt,
      }));
      expect(timing.paint).toBeGreaterThan(0);
      expect(timing.data).toBeGreaterThan(timing.paint!);

      const ae = await trainOneEpoch(page, 'autoencoder');
      await page.screenshot({ path: join(artifacts, 'demo-autoencoder.png'), fullPage: true });
      const aeVal = expectTrained(ae);
      const aeCanvases = await canvasVariances(page);
      expect(aeCanvases.map((c) => c.id).sort()).toEqual(['hist', 'loss', 'ranked', 'recon', 'scatter']);
      for (const c of aeCanvases) expect(c.variance, c.id).toBeGreaterThan(100);

      // the same run in Node gives the same held-out loss, to the bit
      await init();
      const ref = new Autoencoder({ inputSize: 784, hidden: [256], latentSize: 32, optimizer: { type: 'adam', learningRate: 1e-3 }, seed: 0 });
      const { train, test } = mnist();
      await ref.fit(train, { epochs: 1, batchSize: 64 });
      expect(aeVal.at(-1)).toBe(ref.evaluate(test).loss);
      ref.dispose();

      // the downloaded model file loads in Node with the same weights; loaded back into the page
      // (a fresh model from the file), it gives the same held-out loss again
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
      expect(download.suggestedFilename()).toBe('latent-wasm-autoencoder.safetensors');
      const file = readFileSync((await download.path())!);
      const saved = Autoencoder.load(file);
      expect(saved.evaluate(test).loss).toBe(aeVal.at(-1));
      saved.dispose();
      await page.click('#reset');
      await page.setInputFiles('#open', { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: file });
      await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.curve.length === 1, null, { timeout: 30_000 });
      expect(await page.evaluate(() => (window as unknown as { __demo: DemoState }).__demo.curve[0].val)).toBe(aeVal.at(-1));
      expect(await page.textContent('#description')).toMatch(/^Autoencoder · latent size 32 · 419,120 parameters/);
      // model.summary() of the loaded model, class names intact in the minified bundle
      expect(await page.textContent('#summary')).toMatch(/^Model: Autoencoder \(autoencoder\)[^]*encoder\.0 \(Linear\)[^]*Total params: 419,120/);

      await page.click('#reset');
      const vae = await trainOneEpoch(page, 'vae');
      await page.screenshot({ path: join(artifacts, 'demo-vae.png'), fullPage: true });
      expectTrained(vae);
      const vaeCanvases = await canvasVariances(page);
      expect(vaeCanvases.map((c) => c.id).sort()).toEqual(['grid', 'hist', 'interp', 'loss', 'ranked', 'recon', 'samples', 'scatter']);
      for (const c of vaeCanvases) expect(c.variance, c.id).toBeGreaterThan(100);
      for (const [name, run] of [['Autoencoder', ae], ['VAE', vae]] as const) {
        console.log(
          `demo, ${name} epoch: main thread ${run.tasks.count} tasks, the longest ${run.tasks.worstWallMs.toFixed(1)} ms wall / ` +
            `${run.tasks.worstCpuMs.toFixed(1)} ms CPU; long tasks observed ${run.longtasks.length}` +
            (run.longtasks.length ? ` (up to ${Math.max(...run.longtasks.map((t) => t.duration))} ms)` : '') +
            `; slowest message handler ${run.state.slowestMessageMs.toFixed(1)} ms; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores; ` +
            run.progress.replace('\n', ' · '),
        );
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
    // two epochs in the page, one in Node, a download and a load: 90-120 s alone on the shared
    // 2-core machine (load average 18-22), more inside the whole suite
  }, 300_000);

  test("the page's JavaScript and WebAssembly are under 150 KB gzipped", () => {
    // what the page fetched: its entry, the worker (the library with the inlined strict core);
    // the relaxed core's chunk is never loaded by the page
    const fetched = [...new Set(server.requests)].filter((p) => /\.(js|wasm)$/.test(p));
    expect(fetched.some((p) => p.includes('worker'))).toBe(true);
    expect(fetched.some((p) => p.includes('relaxed'))).toBe(false);
    const sizes = fetched.map((p) => ({ p, gz: gzipSync(readFileSync(join(demo, 'dist', p)), { level: 9 }).length }));
    const total = sizes.reduce((s, x) => s + x.gz, 0);
    console.log(`demo page JS + WASM: ${(total / KB).toFixed(1)} KB gzipped (${sizes.map((s) => `${s.p} ${(s.gz / KB).toFixed(1)}`).join(', ')})`);
    expect(total).toBeLessThan(150 * KB);
  });
});
