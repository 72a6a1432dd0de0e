// Cloudflare Workers' runtime, twice: `workerd test` on a config.capnp (npm `workerd`, its binary
// inside the package), and Miniflare from this Node test. The worker imports the package and its
// `.wasm` as modules (compiling from bytes is forbidden there: the test checks that it is), loads
// a model file saved here in Node, and returns codes and reconstructions: bit-identical to Node's.
// It also runs the cross-runtime training: same hashes as Node, Chromium, Deno and Bun; and a
// calibrated, normalized detector saved in Node gives Node's scores and flags bit for bit; and
// the saved model's int8 quantization (a third file) and an int8 ConvAutoencoder (a fourth) give
// Node's codes and reconstructions.
import { beforeAll, describe, expect, test } from 'vitest';
import * as lib from '../src/index.js';
import { bins, installRuntimes, toolsDir } from '../scripts/install-runtimes.mjs';
import { detectorModel, detectRun, hashRun, inferRun } from './runtimes/fixtures/hash-run.mjs';
import { packedApp, run } from './runtimes/package.js';
import { bundleWorker, type WorkerBundle } from './runtimes/workers.js';

type HashResult = Awaited<ReturnType<typeof hashRun>>;
interface WorkerResult {
  train: HashResult;
  infer: ReturnType<typeof inferRun>;
  detect: ReturnType<typeof detectRun>;
  int8: ReturnType<typeof inferRun>;
  int8Conv: ReturnType<typeof inferRun>;
  bytesRefused: string | null;
}

let bundle: WorkerBundle;
let node: HashResult;
let nodeInfer: ReturnType<typeof inferRun>;
let nodeDetect: ReturnType<typeof detectRun>;
/** int8 (docs/int8.md): the trained model quantized here, and what Node infers with its file. */
let nodeInt8: ReturnType<typeof inferRun>;
let nodeInt8Conv: ReturnType<typeof inferRun>;

beforeAll(async () => {
  const [app] = await Promise.all([packedApp(), installRuntimes()]);
  const { model, ...rest } = await hashRun(lib, undefined, true);
  node = rest;
  nodeInfer = inferRun(lib, model!);
  const detector = await detectorModel(lib);
  nodeDetect = detectRun(lib, detector);
  const f32 = lib.loadModel(model!) as lib.Autoencoder;
  const int8 = f32.quantize().save();
  f32.dispose();
  nodeInt8 = inferRun(lib, int8);
  // 16 values per row, as the probe rows: [1, 4, 4] images through conv2d and convTranspose2d
  const conv = new lib.ConvAutoencoder({ inputShape: [1, 4, 4], filters: [4], latentSize: 4, seed: 3 });
  const int8Conv = conv.quantize().save();
  conv.dispose();
  nodeInt8Conv = inferRun(lib, int8Conv);
  bundle = await bundleWorker(app.dir, 'worker-dist', model!, detector, int8, int8Conv);
}, 600_000);

function checkWorker(got: WorkerResult, trained = true) {
  expect(got.bytesRefused).toMatch(/disallowed/i); // the reason `init({ module })` exists
  expect(got.infer.codes).toHaveLength(32 * 4);
  expect(got.infer.reconstructions).toHaveLength(32 * 16);
  expect(got.infer).toEqual(nodeInfer);
  // the detector file: normalizer and threshold travel in it; some rows are flagged, not all
  expect(nodeDetect.metric).toBe('mae');
  expect(nodeDetect.flags.filter((f) => f === 1).length).toBeGreaterThan(0);
  expect(nodeDetect.flags.filter((f) => f === 1).length).toBeLessThan(nodeDetect.flags.length / 5);
  expect(got.detect).toEqual(nodeDetect);
  if (trained) expect(got.train).toEqual(node);
  // int8: the quantized model's file, loaded in the Worker, gives Node's bits
  expect(got.int8.codes).toHaveLength(32 * 4);
  expect(got.int8).toEqual(nodeInt8);
  expect(got.int8).not.toEqual(nodeInfer);
  expect(got.int8Conv.reconstructions).toHaveLength(32 * 16);
  expect(got.int8Conv).toEqual(nodeInt8Conv);
}

describe('workerd', () => {
  test('`workerd test`: the saved model gives Node’s codes and reconstructions, the saved detector Node’s scores and flags, bit for bit', async () => {
    const r = await run(bins.workerd, ['test', '--experimental', 'config.capnp'], { cwd: bundle.dir, timeoutMs: 90_000 });
    const out = r.stdout + '\n' + r.stderr;
    const line = out.split('\n').find((l) => l.includes('LATENT_RESULT '));
    if (r.code !== 0 || !line) {
      throw new Error(`workerd test failed (exit ${r.code ?? r.signal}, tools in ${toolsDir})\n${out}`);
    }
    checkWorker(JSON.parse(line.slice(line.indexOf('LATENT_RESULT ') + 'LATENT_RESULT '.length)));
  });
});

describe('Miniflare', () => {
  async function fetchWorker(query: string, flags: string[]): Promise<WorkerResult> {
    // miniflare lives in .runtimes/tools (outside the lock file), so it is typed here by hand
    const { Miniflare } = (await import(`${toolsDir}/node_modules/miniflare/dist/src/index.js`)) as {
      Miniflare: new (options: object) => { dispatchFetch(url: string): Promise<Response>; dispose(): Promise<void> };
    };
    const mf = new Miniflare({
      modules: [
        { type: 'ESModule', path: bundle.worker },
        { type: 'CompiledWasm', path: bundle.wasm },
        { type: 'Data', path: bundle.model },
        { type: 'Data', path: bundle.detector },
        { type: 'Data', path: bundle.int8Model },
        { type: 'Data', path: bundle.int8ConvModel },
      ],
      modulesRoot: bundle.dir,
      compatibilityDate: '2025-01-01',
      compatibilityFlags: flags,
    });
    try {
      const res = await mf.dispatchFetch(`http://localhost/${query}`);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      return JSON.parse(text) as WorkerResult;
    } finally {
      await mf.dispose();
    }
  }

  test('inference, no compatibility flags: the saved model gives Node’s codes and reconstructions, the detector Node’s scores and flags, bit for bit', async () => {
    const got = await fetchWorker('?train=0', []);
    expect(got.train).toBeNull();
    checkWorker(got, false);
  });

  test('training in a Worker, no compatibility flags, gives the hashes Node gives', async () => {
    // fit() yields through MessageChannel where there is one and falls back to setTimeout in
    // Workers without expose_global_message_channel
    checkWorker(await fetchWorker('', []));
  });
});
