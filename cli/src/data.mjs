// Reads a data file into rows: IDX (gzipped or not), CSV (header row, numeric columns), .npy
// (float32, float64, uint8) and JSON (an array of rows). Bytes (uint8) are scaled to [0, 1], as
// torchvision's ToTensor does, so MNIST's IDX files train with the default sigmoid + BCE.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseNpy } from 'npyjs';
import { readIdx, idxToFloat32 } from 'latent-wasm';
import { DataError } from './errors.mjs';

/** The formats by file extension; anything else is sniffed as IDX (MNIST's names have none). */
export function formatOf(path) {
  const ext = extname(path.toLowerCase().replace(/\.gz$/, ''));
  if (ext === '.csv') return 'csv';
  if (ext === '.npy') return 'npy';
  if (ext === '.json') return 'json';
  return 'idx';
}

/**
 * @returns {{ data: Float32Array, rows: number, width: number, shape: number[], bytes: boolean }}
 *   row-major values, the per-row shape (IDX and .npy keep theirs: [28, 28] for MNIST), and
 *   whether the values were bytes scaled to [0, 1].
 */
export async function readData(path, { columns } = {}) {
  const bytes = await readFile(path);
  const format = formatOf(path);
  if (columns !== undefined && format !== 'csv') throw new DataError(`--columns applies to CSV files only; ${basename(path)} is ${format}`);
  const read = { csv: readCsv, npy: readNpy, json: readJson, idx: readIdxRows }[format];
  const out = await read(bytes, path, columns);
  if (out.rows === 0) throw new DataError(`${path}: no rows`);
  for (let i = 0; i < out.data.length; i++) {
    if (!Number.isFinite(out.data[i])) {
      const r = Math.floor(i / out.width);
      throw new DataError(`${path}: row ${r}, value ${i - r * out.width} is ${out.data[i]}; expected finite numbers`);
    }
  }
  return out;
}

function fromShape(data, shape, bytes) {
  const rows = shape[0];
  const sample = shape.length === 1 ? [1] : shape.slice(1);
  const width = sample.reduce((a, b) => a * b, 1);
  return { data, rows, width, shape: sample, bytes };
}

async function readIdxRows(bytes, path) {
  let idx;
  try {
    idx = await readIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new DataError(`${path}: not a data file this tool reads (IDX, .csv, .npy, .json): ${e.message}`);
  }
  const isBytes = idx.type === 'ubyte';
  return fromShape(idxToFloat32(idx, { scale: isBytes ? 1 / 255 : 1 }), idx.shape, isBytes);
}

const NPY_TYPES = { '<f4': Float32Array, '<f8': Float64Array, '|u1': Uint8Array };

async function readNpy(bytes, path) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let npy;
  try {
    npy = parseNpy(buffer);
  } catch (e) {
    throw new DataError(`${path}: not a valid .npy file (${e.message})`);
  }
  const ok = [Float32Array, Float64Array, Uint8Array].some((T) => npy.data instanceof T);
  if (!ok || (npy.dtype !== 'f4' && npy.dtype !== 'f8' && npy.dtype !== 'u1')) {
    throw new DataError(`${path}: dtype ${npy.dtype} is not supported; expected float32, float64 or uint8 (${Object.keys(NPY_TYPES).join(', ')})`);
  }
  if (npy.fortranOrder) throw new DataError(`${path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`);
  if (npy.shape.length === 0) throw new DataError(`${path}: a scalar; expected rows (a 1-D or higher array)`);
  const isBytes = npy.dtype === 'u1';
  const data = isBytes ? Float32Array.from(npy.data, (v) => v / 255) : Float32Array.from(npy.data);
  return fromShape(data, npy.shape, isBytes);
}

async function readJson(bytes, path) {
  let rows;
  try {
    rows = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${e.message})`);
  }
  if (!Array.isArray(rows) || !rows.every(Array.isArray)) throw new DataError(`${path}: expected a JSON array of rows (arrays of numbers)`);
  const width = rows[0]?.length ?? 0;
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new DataError(`${path}: row ${r} has ${row.length} values; row 0 has ${width}`);
    row.forEach((v, c) => {
      if (typeof v !== 'number') throw new DataError(`${path}: row ${r}, value ${c} is ${JSON.stringify(v)}; expected a number`);
      data[r * width + c] = v;
    });
  });
  return { data, rows: rows.length, width, shape: [width], bytes: false };
}

async function readCsv(bytes, path, columns) {
  let records;
  try {
    records = parseCsv(bytes, { skip_empty_lines: true, trim: true, info: true, bom: true });
  } catch (e) {
    throw new DataError(`${path}: ${e.message}`);
  }
  if (records.length < 2) throw new DataError(`${path}: expected a header row and at least one row of numbers`);
  const header = records[0].record;
  let picked = header.map((_, i) => i);
  if (columns !== undefined) {
    picked = columns.split(',').map((name) => {
      const i = header.indexOf(name.trim());
      if (i < 0) throw new DataError(`${path}: no column '${name.trim()}'; the header has ${header.join(', ')}`);
      return i;
    });
  }
  const width = picked.length;
  const data = new Float32Array((records.length - 1) * width);
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    picked.forEach((col, c) => {
      const cell = record[col];
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new DataError(`${path}: line ${info.lines}, column '${header[col]}': '${cell}' is not a number${columns === undefined ? ' (choose numeric columns with --columns)' : ''}`);
      }
      data[(r - 1) * width + c] = v;
    });
  }
  return { data, rows: records.length - 1, width, shape: [width], bytes: false };
}
