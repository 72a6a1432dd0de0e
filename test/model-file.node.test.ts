// Model files on disk (Node): saveFile / loadFile, atomic replacement.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { Autoencoder, init } from '../src/index.js';
import { loadFile, saveFile } from '../src/node.js';
import { randomArray } from './helpers/reference.js';

await init();
const dir = await mkdtemp(join(tmpdir(), 'latent-wasm-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

test('saveFile then loadFile gives the same model; replacing a file leaves no temporary behind', async () => {
  const x = randomArray(30 * 10, 4, 0, 1);
  const a = new Autoencoder({ inputSize: 10, hidden: [6], latentSize: 2, seed: 1 });
  const path = join(dir, 'model.safetensors');
  await saveFile(a, path);
  await a.fit(x, { epochs: 1, batchSize: 8 });
  await saveFile(a, path, { optimizer: true });
  const b = (await loadFile(path)) as Autoencoder;
  expect(Array.from(b.reconstruct(x))).toEqual(Array.from(a.reconstruct(x)));
  expect(b.optimizer.step).toBe(a.optimizer.step);
  expect(await readdir(dir)).toEqual(['model.safetensors']);
  a.dispose();
  b.dispose();
});
