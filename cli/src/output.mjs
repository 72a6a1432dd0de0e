// Writes results: CSV (header, one row per sample), .npy (float32) or PNG (an image grid), each
// atomically (a temporary file renamed over the target), or CSV on stdout without -o.
import { extname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { dump } from 'npyjs';
import { tileGrid, writeFileAtomic, writePng } from 'latent-wasm/node';
import { UsageError } from './errors.mjs';

/** Writes rows × width values to `path` (.csv, .npy) or stdout (path undefined: CSV). `names`:
 *  the CSV header, an array of column names or a prefix numbered per column (z0, z1, ...). */
export async function writeRows(path, data, rows, width, names) {
  const ext = path === undefined ? '.csv' : extname(path).toLowerCase();
  if (ext === '.npy') {
    // one value per row (scores): a 1-D array, as numpy users expect
    const shape = width === 1 ? [rows] : [rows, width];
    return writeFileAtomic(path, new Uint8Array(dump(data, shape, { dtype: 'f4' })));
  }
  if (ext !== '.csv') throw new UsageError(`-o ${path}: expected a .csv or .npy file`);
  const header = Array.isArray(names) ? names : width === 1 ? [names] : Array.from({ length: width }, (_, i) => `${names}${i}`);
  const records = Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * width, (r + 1) * width)));
  const text = stringify([header, ...records]);
  if (path === undefined) process.stdout.write(text);
  else await writeFileAtomic(path, new TextEncoder().encode(text));
}

/** The per-image shape for pictures: --shape C,H,W, else the data's or model's own. */
export function imageShape(flag, shape, width) {
  if (flag !== undefined) {
    const s = flag.split(',').map(Number);
    if (!s.every((v) => Number.isInteger(v) && v > 0) || s.reduce((a, b) => a * b, 1) !== width) {
      throw new UsageError(`--shape must be H,W or C,H,W with ${width} values in all; got '${flag}'`);
    }
    return s;
  }
  if (shape?.length === 2 || (shape?.length === 3 && (shape[0] === 1 || shape[0] === 3))) return shape;
  const side = Math.round(Math.sqrt(width));
  if (side * side === width) return [side, side];
  throw new UsageError(`rows of ${width} values are not square images: give --shape H,W or C,H,W`);
}

/** Values already in [0, 1] are drawn as they are; any other range is stretched to 0…255. */
function rangeOf(data) {
  for (const v of data) if (v < 0 || v > 1) return 'auto';
  return [0, 1];
}

/** Tiles rows into a PNG grid at `path`. Returns the grid's pixel size. */
export async function writeGrid(path, data, width, shape, columns) {
  if (extname(path).toLowerCase() !== '.png') throw new UsageError(`-o ${path}: expected a .png file`);
  const grid = tileGrid(data, width, { shape, columns, range: rangeOf(data) });
  await writePng(path, grid);
  return grid;
}
