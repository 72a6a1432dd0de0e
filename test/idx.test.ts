// IDX reader (MNIST's format): hand-built files of each type, gzip via CompressionStream, and
// malformed files. Runs in Node and Chromium (no node: imports).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FormatError, InputError } from '../src/errors.js';
import { idxToFloat32, readIdx } from '../src/io/idx.js';

const TYPE_BYTE = { ubyte: 0x08, byte: 0x09, short: 0x0b, int: 0x0c, float: 0x0d, double: 0x0e } as const;
const SIZE = { ubyte: 1, byte: 1, short: 2, int: 4, float: 4, double: 8 } as const;
type T = keyof typeof TYPE_BYTE;

/** An IDX file: magic, big-endian dims, big-endian values. */
function idx(type: T, shape: number[], values: number[]): Uint8Array {
  const head = 4 + 4 * shape.length;
  const out = new Uint8Array(head + SIZE[type] * values.length);
  const v = new DataView(out.buffer);
  out[2] = TYPE_BYTE[type];
  out[3] = shape.length;
  shape.forEach((n, i) => v.setUint32(4 + 4 * i, n, false));
  values.forEach((x, i) => {
    const at = head + SIZE[type] * i;
    if (type === 'ubyte') v.setUint8(at, x);
    else if (type === 'byte') v.setInt8(at, x);
    else if (type === 'short') v.setInt16(at, x, false);
    else if (type === 'int') v.setInt32(at, x, false);
    else if (type === 'float') v.setFloat32(at, x, false);
    else v.setFloat64(at, x, false);
  });
  return out;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function formatError(p: Promise<unknown>, message: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a FormatError').toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(message);
}

describe('readIdx', () => {
  test('ubyte, 1-3 dimensions (MNIST labels and images)', async () => {
    const labels = await readIdx(idx('ubyte', [5], [7, 2, 1, 0, 4]));
    expect(labels.type).toBe('ubyte');
    expect(labels.shape).toEqual([5]);
    expect(labels.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(labels.data)).toEqual([7, 2, 1, 0, 4]);

    const pixels = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);
    const images = await readIdx(idx('ubyte', [2, 3, 4], pixels));
    expect(images.shape).toEqual([2, 3, 4]);
    expect(Array.from(images.data)).toEqual(pixels);
    const m = await readIdx(idx('ubyte', [2, 2], [0, 255, 128, 1]));
    expect(m.shape).toEqual([2, 2]);
  });

  test('float, byte, short, int, double: big-endian, in their natural typed arrays', async () => {
    const f = await readIdx(idx('float', [2, 2], [1.5, -2, 0.25, 3e38]));
    expect(f.type).toBe('float');
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual([1.5, -2, 0.25, Math.fround(3e38)]);
    const b = await readIdx(idx('byte', [3], [-128, 0, 127]));
    expect(b.data).toBeInstanceOf(Int8Array);
    expect(Array.from(b.data)).toEqual([-128, 0, 127]);
    const s = await readIdx(idx('short', [3], [-32768, 258, 32767]));
    expect(s.data).toBeInstanceOf(Int16Array);
    expect(Array.from(s.data)).toEqual([-32768, 258, 32767]);
    const i = await readIdx(idx('int', [1, 2], [-2147483648, 16909060]));
    expect(i.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i.data)).toEqual([-2147483648, 16909060]);
    const d = await readIdx(idx('double', [2], [Math.PI, -1e300]));
    expect(d.data).toBeInstanceOf(Float64Array);
    expect(Array.from(d.data)).toEqual([Math.PI, -1e300]);
  });

  test('empty dimensions are valid', async () => {
    const e = await readIdx(idx('ubyte', [0, 28, 28], []));
    expect(e.shape).toEqual([0, 28, 28]);
    expect(e.data.length).toBe(0);
  });

  test('gzip input (1f 8b) parses identically, compressed here with CompressionStream', async () => {
    const pixels = Array.from({ length: 3 * 28 * 28 }, (_, i) => (i * 7) % 256);
    for (const raw of [idx('ubyte', [3, 28, 28], pixels), idx('float', [4], [1, 2, 3, 4]), idx('ubyte', [0], [])]) {
      const gz = await gzip(raw);
      expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
      expect(await readIdx(gz)).toEqual(await readIdx(raw));
    }
  });

  test('a large gzip file (more than one decompressed chunk) parses identically', { timeout: 30_000 }, async () => {
    const n = 500_000;
    const raw = idx('ubyte', [n], Array.from({ length: n }, (_, i) => (i * 31) & 0xff));
    const out = await readIdx(await gzip(raw));
    expect(out.shape).toEqual([n]);
    expect(out.data).toEqual((await readIdx(raw)).data);
  });

  test('idxToFloat32 scales (MNIST pixels / 255) and copies', async () => {
    const file = await readIdx(idx('ubyte', [4], [0, 51, 255, 128]));
    const x = idxToFloat32(file, { scale: 1 / 255 });
    expect(x).toBeInstanceOf(Float32Array);
    expect(Array.from(x)).toEqual([0, 0.2, 1, 128 / 255].map(Math.fround));
    expect(Array.from(idxToFloat32(file))).toEqual([0, 51, 255, 128]);
    const f = await readIdx(idx('float', [2], [0.5, -1]));
    const copy = idxToFloat32(f);
    copy[0] = 9;
    expect(f.data[0]).toBe(0.5);
    expect(() => idxToFloat32(file, { scale: NaN })).toThrow(InputError);
  });
});

describe('readIdx rejects malformed files with FormatError', () => {
  test('bad magic', async () => {
    const f = idx('ubyte', [1], [1]);
    f[0] = 0x12;
    await formatError(readIdx(f), /starts with bytes 12 00; expected 00 00 \(IDX magic\) or 1f 8b \(gzip\)/);
    const g = idx('ubyte', [1], [1]);
    g[1] = 0x01;
    await formatError(readIdx(g), /starts with bytes 00 01/);
  });

  test('unknown type byte', async () => {
    const f = idx('ubyte', [1], [1]);
    f[2] = 0x0a;
    await formatError(readIdx(f), /type byte 0a \(byte 2\); expected 08 \(ubyte\)/);
  });

  test('zero dimensions', async () => {
    await formatError(readIdx(new Uint8Array([0, 0, 8, 0, 1])), /has 0 dimensions \(byte 3\)/);
  });

  test('truncated: shorter than the magic, inside the dimensions, inside the data', async () => {
    await formatError(readIdx(new Uint8Array([0, 0, 8])), /is 3 bytes; expected at least 4/);
    await formatError(readIdx(idx('ubyte', [2, 28, 28], []).subarray(0, 10)), /truncated: 3 dimensions need a 16-byte header but the file has 10 bytes/);
    const f = idx('float', [2, 3], [1, 2, 3, 4, 5, 6]);
    await formatError(readIdx(f.subarray(0, f.length - 1)), /is truncated: shape \[2, 3\] of float \(4 bytes each\) needs 24 data bytes after the 12-byte header, but there are 23/);
  });

  test('dimensions disagree with the data length', async () => {
    const f = idx('ubyte', [2, 2], [1, 2, 3, 4, 5]);
    await formatError(readIdx(f), /has 1 bytes too many: shape \[2, 2\] of ubyte/);
    const huge = idx('ubyte', [60000, 28, 28], []);
    await formatError(readIdx(huge), /is truncated: shape \[60000, 28, 28\] of ubyte .* needs 47040000 data bytes/);
  });

  test('dimensions too large: past maxBytes, or overflowing 2^53, refused before allocating', async () => {
    const big = idx('double', [0xffffffff, 0xffffffff], []);
    await formatError(readIdx(big), /dimensions whose product overflows 2\^53/);
    const f = idx('double', [1000, 1000], []);
    await formatError(readIdx(f, { maxBytes: 1_000_000 }), /declares shape \[1000, 1000\] of double: 8000000 data bytes, more than maxBytes \(1000000\)/);
    await expect(readIdx(f, { maxBytes: -1 })).rejects.toThrow(InputError);
  });

  test('gzip: corrupt or truncated stream, a bomb past the declared size, bad content inside', async () => {
    const raw = idx('ubyte', [1000], Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const gz = await gzip(raw);
    await formatError(readIdx(gz.subarray(0, gz.length - 12)), /gzip|truncated/);
    const bad = gz.slice();
    bad[12] ^= 0xff;
    bad[20] ^= 0xff;
    await formatError(readIdx(bad), /./);
    // Declares 4 bytes but inflates to 1 MB of zeros: stopped early, not buffered whole.
    const bomb = new Uint8Array(8 + 1_000_000);
    bomb.set([0, 0, 8, 1, 0, 0, 0, 4]);
    await formatError(readIdx(await gzip(bomb)), /after gunzip\) has more bytes than its dimensions declare \(12\)/);
    const wrongInside = idx('ubyte', [3], [1, 2, 3]);
    wrongInside[2] = 0x42;
    await formatError(readIdx(await gzip(wrongInside)), /IDX file \(after gunzip\) has type byte 42/);
    await formatError(readIdx(await gzip(new Uint8Array([0, 0]))), /\(after gunzip\) is 2 bytes/);
  });

  test('non-Uint8Array input: InputError', async () => {
    await expect(readIdx('abc' as unknown as Uint8Array)).rejects.toThrow(InputError);
  });
});

describe('readIdx under fuzzing', () => {
  test('mutated small files, plain and gzip: each parses or throws FormatError', { timeout: 60_000 }, async () => {
    const seeds = [
      idx('ubyte', [3, 2, 2], Array.from({ length: 12 }, (_, i) => i * 20)),
      idx('float', [2, 2], [1, -2, 3.5, 4]),
      idx('short', [3], [1, -1, 300]),
      idx('double', [1], [Math.E]),
    ];
    const gzSeeds = await Promise.all(seeds.map(gzip));
    let runs = 0;
    let parsed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 2 * seeds.length - 1 }),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
        fc.option(fc.nat()),
        async (s, flips, cut) => {
          runs++;
          const b = (s < seeds.length ? seeds[s] : gzSeeds[s - seeds.length]).slice();
          for (const f of flips) b[f.at % b.length] = f.value;
          const input = cut === null ? b : b.subarray(0, cut % (b.length + 1));
          try {
            const out = await readIdx(input);
            expect(out.data.length).toBe(out.shape.reduce((a, n) => a * n, 1));
            parsed++;
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
    console.log(`idx fuzz: ${runs} files read (${parsed} parsed, ${runs - parsed} FormatError)`);
  });
});
