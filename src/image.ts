import { checkInt, checkKeys, checkNumber, toRows, type Matrix } from './data.js';
import { InputError, ShapeError } from './errors.js';

/** Options of tileGrid. */
export interface GridOptions {
  /** Per-row image shape: [height, width] (grayscale) or [channels, height, width] with 1 or 3
   *  channels (PyTorch's C×H×W). Default: a square grayscale image (width = side²). */
  shape?: number[];
  /** Images per grid row; default ⌈√rows⌉. */
  columns?: number;
  /** Pixels between images and around the grid; default 1. */
  padding?: number;
  /** The value range mapped to 0…255 (values outside are clamped): [low, high], or 'auto' for
   *  the data's own minimum and maximum. Default [0, 1]. */
  range?: [number, number] | 'auto';
  /** Gray level 0…255 of the padding; default 0. */
  background?: number;
}

/** An 8-bit image, row-major, `channels` interleaved values per pixel (1 = gray, 3 = RGB). */
export interface ImageGrid {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

const GRID_KEYS = ['shape', 'columns', 'padding', 'range', 'background'];

/** [channels, height, width] of one tile, from the option or the row width. */
function tileShape(shape: number[] | undefined, width: number): [number, number, number] {
  if (shape === undefined) {
    const side = Math.round(Math.sqrt(width));
    if (side * side !== width) {
      throw new ShapeError(`tileGrid: rows of ${width} values are not square images; give options.shape ([height, width] or [channels, height, width])`);
    }
    return [1, side, side];
  }
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 3)) {
    throw new InputError(`tileGrid: options.shape must be [height, width] or [channels, height, width]; got ${JSON.stringify(shape)}`);
  }
  const [c, h, w] = shape.length === 2 ? [1, shape[0], shape[1]] : shape;
  checkInt(h, 'tileGrid: options.shape height', 1);
  checkInt(w, 'tileGrid: options.shape width', 1);
  if (c !== 1 && c !== 3) throw new InputError(`tileGrid: options.shape channels must be 1 or 3; got ${String(c)}`);
  if (c * h * w !== width) {
    throw new ShapeError(`tileGrid: options.shape [${shape.join(', ')}] holds ${c * h * w} values; the rows have ${width}`);
  }
  return [c, h, w];
}

/**
 * Tiles rows (each one image, stored as PyTorch stores it: C×H×W, channel planes one after
 * another) into one 8-bit image grid, left to right and top to bottom. Pure: works in browsers
 * (put the result in an ImageData) and Node (`writePng` from 'latent-wasm/node').
 * `width` is the values per row; a Float32Array needs it, arrays of rows carry it.
 */
export function tileGrid(rows: Matrix, width: number, options: GridOptions = {}): ImageGrid {
  checkKeys(options, GRID_KEYS, 'tileGrid options');
  checkInt(width, 'tileGrid: width', 1);
  const x = toRows(rows, width, 'tileGrid: rows');
  const [c, h, w] = tileShape(options.shape, width);
  const n = x.rows;
  const columns = checkInt(options.columns ?? Math.ceil(Math.sqrt(n)), 'tileGrid: options.columns', 1);
  const pad = checkInt(options.padding ?? 1, 'tileGrid: options.padding', 0, 1024);
  const background = checkInt(options.background ?? 0, 'tileGrid: options.background', 0, 255);
  let [low, high] = [0, 1];
  if (options.range === 'auto') {
    [low, high] = [Infinity, -Infinity];
    for (const v of x.data) [low, high] = [Math.min(low, v), Math.max(high, v)];
  } else if (options.range !== undefined) {
    if (!Array.isArray(options.range) || options.range.length !== 2) {
      throw new InputError(`tileGrid: options.range must be [low, high] or 'auto'; got ${JSON.stringify(options.range)}`);
    }
    [low, high] = [checkNumber(options.range[0], 'tileGrid: options.range[0]'), checkNumber(options.range[1], 'tileGrid: options.range[1]')];
    if (!(high > low)) throw new InputError(`tileGrid: options.range must have low < high; got [${low}, ${high}]`);
  }
  // a constant image ('auto' on equal values) maps to 0 rather than dividing by zero
  const scale = high > low ? 255 / (high - low) : 0;
  const gridRows = Math.ceil(n / columns);
  const gw = columns * (w + pad) + pad;
  const gh = gridRows * (h + pad) + pad;
  const channels = c as 1 | 3;
  const data = new Uint8Array(gw * gh * channels).fill(background);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    const top = pad + Math.floor(i / columns) * (h + pad);
    const left = pad + (i % columns) * (w + pad);
    const base = i * width;
    for (let y = 0; y < h; y++) {
      for (let xPix = 0; xPix < w; xPix++) {
        const out = ((top + y) * gw + left + xPix) * channels;
        for (let ch = 0; ch < channels; ch++) {
          const v = (x.data[base + ch * plane + y * w + xPix] - low) * scale;
          data[out + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        }
      }
    }
  }
  return { width: gw, height: gh, channels, data };
}

/**
 * Interleaves two sets of rows (e.g. inputs and their reconstructions, rows × width each) so that
 * tileGrid with the same `columns` draws each grid row of `top` directly above the same samples
 * of `bottom`. The row count must be a multiple of `columns` (every pair of grid rows is full).
 */
export function pairRows(top: Float32Array, bottom: Float32Array, width: number, columns: number): Float32Array {
  checkInt(width, 'pairRows: width', 1);
  checkInt(columns, 'pairRows: columns', 1);
  if (!(top instanceof Float32Array) || !(bottom instanceof Float32Array) || top.length !== bottom.length) {
    throw new InputError('pairRows: top and bottom must be Float32Arrays of the same length');
  }
  const chunk = width * columns;
  if (top.length === 0 || top.length % chunk !== 0) {
    throw new ShapeError(`pairRows: ${top.length / width} rows of ${width} values do not fill grid rows of ${columns}; use a multiple of ${columns} rows`);
  }
  const out = new Float32Array(top.length * 2);
  for (let at = 0; at < top.length; at += chunk) {
    out.set(top.subarray(at, at + chunk), 2 * at);
    out.set(bottom.subarray(at, at + chunk), 2 * at + chunk);
  }
  return out;
}
