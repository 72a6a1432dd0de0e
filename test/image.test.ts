// tileGrid against a brute-force reference: every pixel of the grid is either padding or the
// value of exactly one input row at one position, scaled from the range to 0…255.
import { describe, expect, test } from 'vitest';
import { InputError, ShapeError, pairRows, tileGrid } from '../src/index.js';
import { randomArray } from './helpers/reference.js';

/** The grid pixel (gx, gy, channel) as a direct lookup: which tile, which pixel inside it. */
function reference(x: Float32Array, c: number, h: number, w: number, columns: number, pad: number, low: number, high: number,
  gx: number, gy: number, ch: number, background: number): number {
  const tx = Math.floor((gx - pad) / (w + pad)), ty = Math.floor((gy - pad) / (h + pad));
  const px = gx - pad - tx * (w + pad), py = gy - pad - ty * (h + pad);
  const i = ty * columns + tx;
  if (gx < pad || gy < pad || px >= w || py >= h || tx >= columns || i >= x.length / (c * h * w)) return background;
  const v = x[i * c * h * w + ch * h * w + py * w + px];
  return Math.min(255, Math.max(0, Math.round(((v - low) / (high - low)) * 255)));
}

function check(x: Float32Array, c: number, h: number, w: number, opts: { columns?: number; padding?: number; background?: number }, low = 0, high = 1) {
  const width = c * h * w;
  const n = x.length / width;
  const g = tileGrid(x, width, { shape: c === 1 ? [h, w] : [c, h, w], ...opts, ...(low !== 0 || high !== 1 ? { range: [low, high] as [number, number] } : {}) });
  const columns = opts.columns ?? Math.ceil(Math.sqrt(n));
  const pad = opts.padding ?? 1;
  expect(g.channels).toBe(c);
  expect(g.width).toBe(columns * (w + pad) + pad);
  expect(g.height).toBe(Math.ceil(n / columns) * (h + pad) + pad);
  for (let gy = 0; gy < g.height; gy++) {
    for (let gx = 0; gx < g.width; gx++) {
      for (let ch = 0; ch < c; ch++) {
        const want = reference(x, c, h, w, columns, pad, low, high, gx, gy, ch, opts.background ?? 0);
        const got = g.data[(gy * g.width + gx) * c + ch];
        if (got !== want) expect({ gx, gy, ch, got }).toEqual({ gx, gy, ch, got: want });
      }
    }
  }
}

describe('tileGrid', () => {
  test('grayscale, partial last row, padding and background', () => {
    check(randomArray(7 * 5 * 4, 1, -0.2, 1.2), 1, 5, 4, { columns: 3, padding: 2, background: 90 });
    check(randomArray(9 * 3 * 3, 2, 0, 1), 1, 3, 3, { padding: 0 });
  });

  test('C×H×W colour planes interleave into RGB; an explicit range', () => {
    check(randomArray(5 * 3 * 4 * 6, 3, -1, 1), 3, 4, 6, { columns: 2 }, -1, 1);
  });

  test("square rows need no shape; 'auto' maps the data's min and max to 0 and 255", () => {
    const x = randomArray(4 * 16, 4, 3, 7);
    const g = tileGrid(x, 16, { range: 'auto', padding: 0 });
    expect([g.width, g.height, g.channels]).toEqual([8, 8, 1]);
    let lo = 255, hi = 0;
    for (const v of g.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    expect([lo, hi]).toEqual([0, 255]);
    expect(tileGrid([[0, 1, 0.5, 1]], 4, { padding: 0 }).data).toEqual(new Uint8Array([0, 255, 128, 255]));
  });

  test('bad input names the argument', () => {
    expect(() => tileGrid(new Float32Array(10), 10)).toThrow(ShapeError);
    expect(() => tileGrid(new Float32Array(12), 12, { shape: [2, 2, 3] })).toThrow(/channels must be 1 or 3/);
    expect(() => tileGrid(new Float32Array(12), 12, { shape: [3, 5] })).toThrow(/holds 15 values/);
    expect(() => tileGrid(new Float32Array(4), 4, { colums: 2 } as never)).toThrow(/did you mean 'columns'/);
    expect(() => tileGrid(new Float32Array(4), 4, { range: [1, 1] })).toThrow(InputError);
    expect(() => tileGrid(new Float32Array(4).fill(NaN), 4)).toThrow(/finite/);
  });
});

describe('pairRows', () => {
  test('each grid row of inputs sits above the same samples of the other set', () => {
    const w = 4, columns = 3, n = 6;
    const top = randomArray(n * w, 5, 0, 1), bottom = randomArray(n * w, 6, 0, 1);
    const out = pairRows(top, bottom, w, columns);
    // sample i is in grid row 2·⌊i/columns⌋ (top) and the row below (bottom), same column
    for (let i = 0; i < n; i++) {
      const r = Math.floor(i / columns), c = i % columns;
      const at = (gridRow: number) => (gridRow * columns + c) * w;
      expect(out.subarray(at(2 * r), at(2 * r) + w)).toEqual(top.subarray(i * w, (i + 1) * w));
      expect(out.subarray(at(2 * r + 1), at(2 * r + 1) + w)).toEqual(bottom.subarray(i * w, (i + 1) * w));
    }
    expect(() => pairRows(top.subarray(0, 5 * w), bottom.subarray(0, 5 * w), w, columns)).toThrow(ShapeError);
    expect(() => pairRows(top, bottom.subarray(0, w), w, columns)).toThrow(InputError);
  });
});
