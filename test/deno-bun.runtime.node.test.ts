// Deno and Bun (npm packages `deno` and `bun`, installed on demand into .runtimes/tools by
// scripts/install-runtimes.mjs): the packed package, imported as 'latent-wasm' with no options,
// trains a small model with a fixed seed; weights, codes and reconstructions hash the same as in
// Node. Deno runs with no permissions at all (no file, network or env access needed).
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as lib from '../src/index.js';
import { bins, installRuntimes, toolsDir } from '../scripts/install-runtimes.mjs';
import { hashRun } from './runtimes/fixtures/hash-run.mjs';
import { lastJson, packedApp, run, runtimesDir, type PackedApp } from './runtimes/package.js';

type HashResult = Awaited<ReturnType<typeof hashRun>>;

let app: PackedApp;
let node: HashResult;
beforeAll(async () => {
  [app] = await Promise.all([packedApp(), installRuntimes()]);
  node = await hashRun(lib);
}, 600_000);

const env = () => ({ ...process.env, DENO_DIR: join(runtimesDir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' });
const runtimes = {
  deno: (script: string, read = false) =>
    run(bins.deno, ['run', '--no-prompt', '--no-lock', ...(read ? ['--allow-read'] : []), script], { cwd: app.dir, timeoutMs: 60_000, env: env() }),
  bun: (script: string, _read = false) => run(bins.bun, [script], { cwd: app.dir, timeoutMs: 60_000, env: env() }),
};

describe.each(Object.keys(runtimes) as (keyof typeof runtimes)[])('%s', (name) => {
  test('imports latent-wasm with no options and gives the same hashes as Node', async () => {
    const r = await runtimes[name]('main.mjs');
    const got = lastJson<HashResult>(r, `${name} main.mjs (tools in ${toolsDir})`);
    expect(got).toEqual(node);
    expect(node.loss[2]).toBeLessThan(node.loss[0]);
  });

  test("init({ module }) with the .wasm from 'latent-wasm/wasm' gives the same hashes", async () => {
    const got = lastJson<HashResult>(await runtimes[name]('main-module.mjs', true), `${name} main-module.mjs`);
    expect(got).toEqual(node);
  });

  test("init({ simd: 'relaxed' }) loads the relaxed build and trains", async () => {
    const got = lastJson<HashResult>(await runtimes[name]('main-relaxed.mjs'), `${name} main-relaxed.mjs`);
    expect(got.simd).toBe('relaxed');
    expect(got.loss[2]).toBeLessThan(got.loss[0]);
  });
});
