// encodePng / writePng: the PNG decodes (pngjs's reader) to the grid's exact pixels, gray and RGB.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, test } from 'vitest';
import { encodePng, tileGrid, writePng } from '../src/node.js';
import { InputError } from '../src/index.js';
import { randomArray } from './helpers/reference.js';

const dir = mkdtempSync(join(tmpdir(), 'latent-png-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PNG', () => {
  test('gray grid round trip through a file', async () => {
    const grid = tileGrid(randomArray(10 * 49, 1, 0, 1), 49, { columns: 4 });
    const path = join(dir, 'g.png');
    await writePng(path, grid);
    const png = PNG.sync.read(readFileSync(path));
    expect([png.width, png.height]).toEqual([grid.width, grid.height]);
    for (let i = 0; i < grid.width * grid.height; i++) {
      expect([png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3]]).toEqual([grid.data[i], grid.data[i], grid.data[i], 255]);
    }
  });

  test('RGB grid round trip', async () => {
    const grid = tileGrid(randomArray(3 * 3 * 5 * 5, 2, 0, 1), 75, { shape: [3, 5, 5] });
    const png = PNG.sync.read(Buffer.from(await encodePng(grid)));
    for (let i = 0; i < grid.width * grid.height; i++) {
      expect([...png.data.subarray(4 * i, 4 * i + 3)]).toEqual([...grid.data.subarray(3 * i, 3 * i + 3)]);
    }
  });

  test('a malformed image is an InputError', async () => {
    await expect(encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).rejects.toThrow(InputError);
  });
});
