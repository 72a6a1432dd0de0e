// The threaded core in Node, from the packed package, one process per configuration (init runs
// once per process): training and outputs are the same bits with 1, 2 and 3 threads and with the
// single-threaded build; the workers did the work (their task count); a script that trains and
// returns exits by itself; an abort mid-fit leaves the same weights; the shared memory limit gives
// a clear error; Deno and Bun run the
// threaded build with the same bits. Each run is a child process with a hard timeout, so a
// hanging pool fails the test instead of the suite.
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { bins, installRuntimes } from '../scripts/install-runtimes.mjs';
import { lastJson, packedApp, run, runtimesDir, type PackedApp } from './runtimes/package.js';

interface Trained {
  weights: string;
  outputs: string;
  loss: number[];
}
interface TrainRun {
  info: { simd: string; threads: number; sharedMemory: boolean };
  dense: Trained;
  vae: Trained;
  conv: Trained;
  /** A fit aborted from a batch callback: its rejection and the weights it left. */
  abort: { reason: string; weights: string };
  /** A model disposed from a batch callback during fit: the error fit rejects with. */
  disposed: string;
  live: number;
  workerTasks: number;
}

let app: PackedApp;
beforeAll(async () => {
  app = await packedApp();
}, 600_000);

const node = (options: object, mode = 'train', flags: string[] = []) =>
  run(process.execPath, [...flags, 'threads-run.mjs', JSON.stringify(options), mode], { cwd: app.dir, timeoutMs: 120_000 });

const models = (r: TrainRun) => ({ dense: r.dense, vae: r.vae, conv: r.conv, abort: r.abort });

describe('threads in Node', () => {
  test('1, 2 and 3 threads and the single-threaded build train to the same bits; the workers take part', async () => {
    const runs: TrainRun[] = [];
    for (const options of [{}, { threads: 1 }, { threads: 2 }, { threads: 3 }]) {
      const r = await node(options);
      // exiting with code 0 at all (before the timeout) is the "exits by itself" check
      runs.push(lastJson<TrainRun>(r, `threads-run ${JSON.stringify(options)}`));
    }
    const [serial, one, two, three] = runs;
    expect(serial.info).toEqual({ simd: 'strict', threads: 1, sharedMemory: false });
    expect(one.info).toEqual({ simd: 'strict', threads: 1, sharedMemory: false });
    expect(two.info).toEqual({ simd: 'strict', threads: 2, sharedMemory: true });
    expect(three.info).toEqual({ simd: 'strict', threads: 3, sharedMemory: true });
    expect(serial.workerTasks).toBe(0);
    // products were split and workers ran some of the tasks (how many is up to the scheduler)
    expect(two.workerTasks).toBeGreaterThan(0);
    expect(three.workerTasks).toBeGreaterThan(0);
    expect(models(two)).toEqual(models(serial));
    expect(models(three)).toEqual(models(serial));
    expect(models(one)).toEqual(models(serial));
    // and they learned; an abort mid-fit rejects with its reason; nothing is left allocated
    for (const m of [serial.dense, serial.vae, serial.conv]) expect(m.loss[1]).toBeLessThan(m.loss[0]);
    for (const r of runs) {
      expect(r.abort.reason).toBe('stop');
      expect(r.disposed).toBe('DisposedError');
      expect(r.live).toBe(0);
    }
  });

  test("'auto' takes the machine's cores; the relaxed threaded build gives the relaxed build's bits", async () => {
    const flags = ['--experimental-wasm-relaxed-simd'];
    const auto = lastJson<TrainRun>(await node({ threads: 'auto' }), 'auto');
    const cores = (await import('node:os')).availableParallelism();
    expect(auto.info.threads).toBe(Math.min(cores, 8));
    const serial = lastJson<TrainRun>(await node({ simd: 'relaxed' }, 'train', flags), 'relaxed serial');
    const two = lastJson<TrainRun>(await node({ simd: 'relaxed', threads: 2 }, 'train', flags), 'relaxed 2 threads');
    expect(two.info).toEqual({ simd: 'relaxed', threads: 2, sharedMemory: true });
    expect(two.workerTasks).toBeGreaterThan(0);
    expect(models(two)).toEqual(models(serial));
  });

  test('a model beyond the shared memory limit: a RuntimeError naming the limit and the option; smaller work still runs', async () => {
    const r = lastJson<{ error: string; after: Trained; info: TrainRun['info'] }>(
      await node({ threads: 2, maxMemoryMiB: 32 }, 'memory-limit'),
      'memory-limit',
    );
    expect(r.info.threads).toBe(2);
    expect(r.error).toMatch(/^RuntimeError: out of WebAssembly memory/);
    expect(r.error).toMatch(/limited to 32 MiB: init\(\{ maxMemoryMiB \}\)/);
    expect(r.after.loss[1]).toBeLessThan(r.after.loss[0]);
  });
});

describe('threads in Deno and Bun', () => {
  beforeAll(async () => {
    await installRuntimes();
  }, 600_000);
  const env = () => ({ ...process.env, DENO_DIR: join(runtimesDir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' });
  const runners = {
    deno: (args: string[]) => run(bins.deno, ['run', '--no-prompt', '--no-lock', ...args], { cwd: app.dir, timeoutMs: 120_000, env: env() }),
    bun: (args: string[]) => run(bins.bun, args, { cwd: app.dir, timeoutMs: 120_000, env: env() }),
  };
  test.each(Object.keys(runners) as (keyof typeof runners)[])('%s: 2 threads give the same bits as Node on one', async (name) => {
    const serial = lastJson<TrainRun>(await node({}), 'node serial');
    const r = lastJson<TrainRun>(await runners[name](['threads-run.mjs', JSON.stringify({ threads: 2 })]), `${name} threads`);
    expect(r.info).toEqual({ simd: 'strict', threads: 2, sharedMemory: true });
    expect(r.workerTasks).toBeGreaterThan(0);
    expect(models(r)).toEqual(models(serial));
  });
});
