// writeFileAtomic / readFileBytes (Node only): writes, replaces, and leaves the previous file
// intact with no temporary file behind when something fails before the rename.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { InputError } from '../src/errors.js';
import { readFileBytes, writeFileAtomic } from '../src/io/node.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latent-io-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (...v: number[]) => new Uint8Array(v);

describe('writeFileAtomic', () => {
  test('writes a new file, leaving no temporary file', async () => {
    const path = join(dir, 'model.safetensors');
    await writeFileAtomic(path, bytes(1, 2, 3));
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  test('replaces an existing file and keeps its permission bits', async () => {
    const path = join(dir, 'w.bin');
    await writeFile(path, 'old contents, longer than the new ones');
    await chmod(path, 0o640);
    await writeFileAtomic(path, bytes(9, 8));
    expect(Array.from(await readFile(path))).toEqual([9, 8]);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['w.bin']);
  });

  test('writes a complete temporary file in the same folder before renaming', async () => {
    const path = join(dir, 'w.bin');
    let seen: { dir: string; content: number[] } | null = null;
    await writeFileAtomic(path, bytes(4, 5, 6), {
      beforeRename: async (temp) => {
        seen = { dir: dirname(temp), content: Array.from(await readFile(temp)) };
      },
    });
    expect(seen).toEqual({ dir, content: [4, 5, 6] });
  });

  test('a failure between write and rename leaves the previous file intact and no temporary file', async () => {
    const path = join(dir, 'w.bin');
    await writeFile(path, bytes(1, 1, 1));
    const failure = new Error('injected: crash before rename');
    await expect(
      writeFileAtomic(path, bytes(2, 2, 2, 2), {
        beforeRename: () => {
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
    expect(Array.from(await readFile(path))).toEqual([1, 1, 1]);
    expect(await readdir(dir)).toEqual(['w.bin']);
  });

  test('a failing rename (target is a non-empty folder) removes the temporary file', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'keep.txt'), 'x');
    await expect(writeFileAtomic(path, bytes(1))).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readdir(path)).toEqual(['keep.txt']);
  });

  test('a missing folder rejects with the I/O error and creates nothing', async () => {
    await expect(writeFileAtomic(join(dir, 'no', 'such', 'w.bin'), bytes(1))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });

  test('concurrent writes to one path: the file ends as one of them, whole, with no temporary files', async () => {
    const path = join(dir, 'w.bin');
    const payloads = Array.from({ length: 8 }, (_, k) => new Uint8Array(10_000).fill(k));
    await Promise.all(payloads.map((p) => writeFileAtomic(path, p)));
    const final = await readFile(path);
    expect(final.length).toBe(10_000);
    expect(final.every((b) => b === final[0])).toBe(true);
    expect(await readdir(dir)).toEqual(['w.bin']);
  });

  test('bad arguments: InputError', async () => {
    await expect(writeFileAtomic('', bytes(1))).rejects.toThrow(InputError);
    await expect(writeFileAtomic(join(dir, 'x'), [1] as unknown as Uint8Array)).rejects.toThrow(InputError);
    await expect(readFileBytes(3 as unknown as string)).rejects.toThrow(InputError);
  });
});

describe('readFileBytes', () => {
  test('returns a plain Uint8Array; a safetensors file survives write → disk → read', async () => {
    const path = join(dir, 'm.safetensors');
    const file = writeSafetensors([{ name: 'w', shape: [2], data: new Float32Array([1.5, -2]) }], { k: 'v' });
    await writeFileAtomic(path, file);
    const back = await readFileBytes(path);
    expect(back.constructor).toBe(Uint8Array);
    expect(back).toEqual(file);
    expect(readSafetensors(back).metadata).toEqual({ k: 'v' });
  });
});
