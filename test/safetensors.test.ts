// safetensors reader/writer: the PyTorch fixture, round trips, the reference writer's layout, and
// one hand-built bad file per check of the reader. Runs in Node and Chromium (no node: imports).
import { describe, expect, test } from 'vitest';
import { FormatError, InputError } from '../src/errors.js';
import {
  MAX_HEADER_BYTES,
  readSafetensors,
  toFloat32,
  writeSafetensors,
  type TensorEntry,
} from '../src/io/safetensors.js';
import { loadFixture } from './fixtures/load.js';

const enc = new TextEncoder();

/** A safetensors file from header text (or raw header bytes) and data bytes (or a count of zeros). */
function file(header: string | Uint8Array, data: Uint8Array | number = 0, length?: bigint): Uint8Array {
  const h = typeof header === 'string' ? enc.encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

/** One header entry as JSON text. */
function t(dtype: unknown, shape: unknown, offsets: unknown): string {
  return JSON.stringify({ dtype, shape, data_offsets: offsets });
}

function formatError(f: () => unknown, message: RegExp): FormatError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a FormatError').toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(message);
  return err as FormatError;
}

function inputError(f: () => unknown, message: RegExp): void {
  expect(f).toThrow(InputError);
  expect(f).toThrow(message);
}

const FIXTURE_TENSORS: [string, number[], [number, number]][] = [
  ['encoder.0.weight', [256, 784], [0, 802816]],
  ['encoder.0.bias', [256], [802816, 803840]],
  ['encoder.2.weight', [64, 256], [803840, 869376]],
  ['encoder.2.bias', [64], [869376, 869632]],
  ['decoder.0.weight', [256, 64], [869632, 935168]],
  ['decoder.0.bias', [256], [935168, 936192]],
  ['decoder.2.weight', [784, 256], [936192, 1739008]],
  ['decoder.2.bias', [784], [1739008, 1742144]],
];

describe('the PyTorch fixture (r1_mnist.safetensors)', () => {
  test('parses: names, shapes, offsets and metadata as test/fixtures/README.md lists them', async () => {
    const bytes = await loadFixture('r1_mnist.safetensors');
    expect(bytes.length).toBe(1_743_120);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)).toBe(968);
    const f = readSafetensors(bytes);
    expect([...f.tensors.keys()]).toEqual(FIXTURE_TENSORS.map(([n]) => n));
    const dataStart = bytes.byteOffset + 8 + 968;
    for (const [name, shape, [begin, end]] of FIXTURE_TENSORS) {
      const e = f.tensors.get(name)!;
      expect(e.dtype).toBe('F32');
      expect(e.shape).toEqual(shape);
      expect(e.bytes.buffer).toBe(bytes.buffer); // a view, not a copy
      expect([e.bytes.byteOffset - dataStart, e.bytes.byteOffset - dataStart + e.bytes.length]).toEqual([begin, end]);
    }
    expect(f.metadata).not.toBeNull();
    for (const v of Object.values(f.metadata!)) expect(typeof v).toBe('string');
    expect(f.metadata).toMatchObject({ arch: '784-256-64-256-784', seed: '0', epochs: '10', batch: '64', output_activation: 'sigmoid' });
  });

  test('toFloat32(encoder.0.bias) gives 256 finite values', async () => {
    const f = readSafetensors(await loadFixture('r1_mnist.safetensors'));
    const b = toFloat32(f.tensors.get('encoder.0.bias')!, 'encoder.0.bias');
    expect(b).toBeInstanceOf(Float32Array);
    expect(b.length).toBe(256);
    expect(b.every(Number.isFinite)).toBe(true);
    expect(b.some((v) => v !== 0)).toBe(true);
  });

  test('write → read keeps names, order, shapes, bits and metadata; the data bytes equal PyTorch\'s', async () => {
    const bytes = await loadFixture('r1_mnist.safetensors');
    const f = readSafetensors(bytes);
    const tensors = [...f.tensors].map(([name, e]) => ({ name, shape: e.shape, data: toFloat32(e, name) }));
    const out = writeSafetensors(tensors, f.metadata!);
    const back = readSafetensors(out);
    expect(back.metadata).toEqual(f.metadata);
    expect([...back.tensors.keys()]).toEqual([...f.tensors.keys()]);
    for (const [name, e] of f.tensors) {
      const b = back.tensors.get(name)!;
      expect(b.dtype).toBe('F32');
      expect(b.shape).toEqual(e.shape);
      expect(equalBytes(b.bytes, e.bytes), name).toBe(true);
    }
    // Same order, same packing: the whole data region is byte-identical to PyTorch's file.
    const n = new DataView(out.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    expect(equalBytes(out.subarray(8 + n), bytes.subarray(8 + 968))).toBe(true);
  });
});

describe('writeSafetensors', () => {
  // Known answers from the reference implementation's own tests (huggingface/safetensors,
  // safetensors/src/tensor.rs: test_serialization, test_serialization_forced_alignement, test_empty).
  const f32 = (...v: number[]) => new Float32Array(v);
  const expected = (json: string, pad: number, data: number[]) => {
    const h = enc.encode(json + ' '.repeat(pad));
    const out = new Uint8Array(8 + h.length + 4 * data.length);
    new DataView(out.buffer).setUint32(0, h.length, true);
    out.set(h, 8);
    new Float32Array(out.buffer, 8 + h.length).set(data); // tests run on little-endian hosts
    return out;
  };

  test('matches the reference layout: u64 LE length, JSON padded with spaces to 8, F32 LE data', () => {
    const a = writeSafetensors([{ name: 'attn.0', shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) }]);
    expect(a).toEqual(expected('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', 0, [0, 1, 2, 3, 4, 5]));
    const b = writeSafetensors([{ name: 'attn0', shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) }]);
    expect(b).toEqual(expected('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', 7, [0, 1, 2, 3, 4, 5]));
    expect(Array.from(b.subarray(8 + 65, 8 + 72))).toEqual(Array(7).fill(0x20));
    expect(writeSafetensors([])).toEqual(expected('{}', 6, []));
    expect(writeSafetensors([], { framework: 'pt' })).toEqual(expected('{"__metadata__":{"framework":"pt"}}', 5, []));
  });

  test('header length is always a multiple of 8, __metadata__ comes first, tensors packed in the given order', () => {
    for (let len = 0; len < 12; len++) {
      const out = writeSafetensors([{ name: 'x'.repeat(len + 1), shape: [1], data: f32(len) }], len % 2 ? { k: 'v' } : undefined);
      const n = new DataView(out.buffer).getUint32(0, true);
      expect(n % 8).toBe(0);
      expect(readSafetensors(out).tensors.size).toBe(1);
    }
    const out = writeSafetensors(
      [
        { name: 'z', shape: [2], data: f32(1, 2) },
        { name: '1', shape: [], data: f32(3) },
        { name: 'a', shape: [0, 5], data: f32() },
        { name: '__proto__', shape: [1, 1], data: f32(4) },
      ],
      { b: '1', a: '' },
    );
    const n = new DataView(out.buffer).getUint32(0, true);
    const json = new TextDecoder().decode(out.subarray(8, 8 + n));
    expect(json.startsWith('{"__metadata__":')).toBe(true);
    expect(json.indexOf('"z":{')).toBeLessThan(json.indexOf('"1":{')); // not reordered like object keys
    const back = readSafetensors(out);
    expect([...back.tensors.keys()]).toEqual(['z', '1', 'a', '__proto__']);
    expect(Array.from(toFloat32(back.tensors.get('__proto__')!, '__proto__'))).toEqual([4]);
    expect(back.tensors.get('a')!.shape).toEqual([0, 5]);
    expect(back.metadata).toEqual({ b: '1', a: '' });
    expect(Array.from(out.subarray(8 + n))).toEqual(Array.from(new Uint8Array(f32(1, 2, 3, 4).buffer)));
  });

  test('keeps every bit: NaN payloads, -0, subnormals, infinities', () => {
    const bits = new Uint32Array([0x7fc00001, 0xffbadbad, 0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x3f800000]);
    const out = writeSafetensors([{ name: 'w', shape: [7], data: new Float32Array(bits.buffer) }]);
    const back = toFloat32(readSafetensors(out).tensors.get('w')!, 'w');
    expect(Array.from(new Uint32Array(back.buffer))).toEqual(Array.from(bits));
  });

  test('rejects bad arguments with InputError', () => {
    const ok = { name: 'w', shape: [2], data: new Float32Array(2) };
    inputError(() => writeSafetensors([{ ...ok, shape: [3] }]), /shape \[3\] \(3 elements\) but data has 2 values/);
    inputError(() => writeSafetensors([ok, { ...ok }]), /"w" is a duplicate/);
    inputError(() => writeSafetensors([ok], { a: 1 as unknown as string }), /metadata\["a"\] is number 1; expected a string/);
    inputError(() => writeSafetensors([{ ...ok, name: '__metadata__' }]), /reserves/);
    inputError(() => writeSafetensors([{ ...ok, data: [1, 2] as unknown as Float32Array }]), /expected a Float32Array/);
    inputError(() => writeSafetensors([{ ...ok, shape: [-2] }]), /shape\[0\] is number -2/);
    inputError(() => writeSafetensors([{ ...ok, name: 5 as unknown as string }]), /name is number 5/);
    inputError(() => writeSafetensors({} as unknown as []), /must be an array/);
    inputError(() => writeSafetensors([], [] as unknown as Record<string, string>), /metadata must be an object/);
  });
});

describe('toFloat32', () => {
  const one = (dtype: string, data: Uint8Array, shape = [data.length / sizeOf(dtype)]) =>
    readSafetensors(file(`{"x":${t(dtype, shape, [0, data.length])}}`, data)).tensors.get('x')!;
  const sizeOf = (d: string) => ({ F16: 2, BF16: 2, F32: 4, F64: 8, I32: 4, U8: 1 })[d]!;
  const le16 = (...v: number[]) => new Uint8Array(new Uint16Array(v).buffer);

  test('F16 (normal, subnormal, max, infinity) and BF16', () => {
    const h = toFloat32(one('F16', le16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000, 0x3555)), 'h');
    expect(Array.from(h)).toEqual([1, -2, 65504, 2 ** -24, Infinity, -0, Math.fround(0.333251953125)]);
    expect(Number.isNaN(toFloat32(one('F16', le16(0x7e00)), 'h')[0])).toBe(true);
    const b = toFloat32(one('BF16', le16(0x3f80, 0xc040, 0x0000, 0x7f80)), 'b');
    expect(Array.from(b)).toEqual([1, -3, 0, Infinity]);
  });

  test('F64 rounds to float32 (out of range → ±Infinity)', () => {
    const d = new Uint8Array(new Float64Array([1.5, -2.25, 0.1, 1e300, -1e300]).buffer);
    expect(Array.from(toFloat32(one('F64', d), 'd'))).toEqual([1.5, -2.25, Math.fround(0.1), Infinity, -Infinity]);
  });

  test('F32 from an unaligned view, little-endian, as a copy', () => {
    const valid = file(`{"x":${t('F32', [3], [0, 12])}}`, new Uint8Array(new Float32Array([1, -2, 0.5]).buffer));
    const shift = (8 + (valid.length - 12) + 1) % 4 === 0 ? 2 : 1; // so the data lands unaligned
    const shifted = new Uint8Array(valid.length + shift);
    shifted.set(valid, shift);
    const e = readSafetensors(shifted.subarray(shift)).tensors.get('x')!;
    expect(e.bytes.byteOffset % 4).not.toBe(0);
    const v = toFloat32(e, 'x');
    expect(Array.from(v)).toEqual([1, -2, 0.5]);
    v[0] = 9;
    expect(Array.from(toFloat32(e, 'x'))).toEqual([1, -2, 0.5]);
  });

  test('other dtypes: FormatError naming the tensor and dtype', () => {
    formatError(() => toFloat32(one('I32', new Uint8Array(8)), 'layer.w'), /tensor "layer.w" has dtype I32/);
    formatError(() => toFloat32(one('U8', new Uint8Array(3)), 'q'), /"q" has dtype U8/);
    expect(() => toFloat32(null as unknown as TensorEntry, 'n')).toThrow(InputError);
  });
});

describe('valid edge cases', () => {
  test('empty file {}; zero-size tensors; offsets listed out of order; escaped and odd names', () => {
    expect(readSafetensors(file('{}')).tensors.size).toBe(0);
    expect(readSafetensors(file('{}   ')).metadata).toBeNull();
    const f = readSafetensors(
      file(
        `{"b":${t('F32', [1], [4, 8])},"\\u0061":${t('U8', [4], [0, 4])},"e":${t('F64', [0, 3], [8, 8])},` +
          `"e2":${t('I64', [0], [8, 8])},"":${t('BOOL', [], [8, 9])},"__metadata__":{}}`,
        9,
      ),
    );
    expect([...f.tensors.keys()]).toEqual(['b', 'a', 'e', 'e2', '']);
    expect(f.tensors.get('e')!.bytes.length).toBe(0);
    expect(f.tensors.get('')!.shape).toEqual([]);
    expect(f.metadata).toEqual({});
  });

  test('a "__proto__" metadata key stays an ordinary string entry', () => {
    const f = readSafetensors(file('{"__metadata__":{"__proto__":"x","k":"v"}}'));
    expect(Object.getPrototypeOf(f.metadata)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(f.metadata, '__proto__')?.value).toBe('x');
  });

  test('rejects a non-Uint8Array argument with InputError', () => {
    inputError(() => readSafetensors([1, 2, 3] as unknown as Uint8Array), /must be a Uint8Array/);
  });
});

describe('readSafetensors rejects each malformed file with a FormatError that says where', () => {
  const x4 = t('F32', [1], [0, 4]); // a valid one-float tensor

  test('file shorter than 8 bytes', () => {
    formatError(() => readSafetensors(new Uint8Array(7)), /file is 7 bytes; expected at least 8/);
    formatError(() => readSafetensors(new Uint8Array(0)), /file is 0 bytes/);
  });

  test('header length with non-zero high 32 bits (no precision loss)', () => {
    formatError(() => readSafetensors(file('{}', 0, 2n ** 32n + 2n)), /header length \(bytes 0\.\.8\) is 4294967298; expected at most 100000000/);
    formatError(() => readSafetensors(file('{}', 0, 2n ** 64n - 1n)), /is 18446744073709551615/);
  });

  test('header length above 100,000,000', () => {
    formatError(() => readSafetensors(file('{}', 0, BigInt(MAX_HEADER_BYTES + 1))), /is 100000001; expected at most 100000000/);
  });

  test('header length past the end of the file', () => {
    formatError(() => readSafetensors(file('{}', 0, 3n)), /header length is 3 \(header bytes 8\.\.11\) but the file is only 10 bytes/);
  });

  test('empty header, or one that does not start with {', () => {
    formatError(() => readSafetensors(file('')), /header \(bytes 8\.\.8\) is empty/);
    formatError(() => readSafetensors(file('[{}]')), /starts with byte 0x5b; expected a JSON object starting with '\{'/);
    formatError(() => readSafetensors(file('\ufeff{}')), /starts with byte 0xef/); // a UTF-8 BOM
    formatError(() => readSafetensors(file(' \t\r\n')), /is only whitespace/);
    // anything but the four JSON whitespace bytes in front is refused: NUL, form feed, vertical tab, NBSP
    formatError(() => readSafetensors(file('\0{}')), /starts with byte 0x00/);
    formatError(() => readSafetensors(file('\f{}')), /starts with byte 0x0c/);
    formatError(() => readSafetensors(file('\v{}')), /starts with byte 0x0b/);
    formatError(() => readSafetensors(file(' \u00a0{}')), /starts with byte 0xc2/);
  });

  test('JSON whitespace (space, tab, CR, LF) around the header object is accepted, as the reference reader does', () => {
    const w = `{"w":${t('F32', [1], [0, 4])}}`;
    const data = new Uint8Array(new Float32Array([1.5]).buffer);
    for (const pad of [' ', '\t', '\r', '\n', '\t\n \r  ']) {
      for (const h of [pad + w, w + pad, pad + w + pad]) {
        const f = readSafetensors(file(h, data));
        expect(toFloat32(f.tensors.get('w')!, 'w')).toEqual(new Float32Array([1.5]));
      }
    }
    // the case: an empty header padded at the front to its length
    expect(readSafetensors(file('\t\n{}')).tensors.size).toBe(0);
  });

  test('header not valid UTF-8', () => {
    const h = enc.encode('{"a\u00e9":{}}');
    h[3] = 0xff;
    formatError(() => readSafetensors(file(h)), /header \(bytes 8\.\.\d+\) is not valid UTF-8/);
    formatError(() => readSafetensors(file(new Uint8Array([0x7b, 0xc3]), 0)), /not valid UTF-8/); // cut in a character
  });

  test('header not valid JSON', () => {
    formatError(() => readSafetensors(file('{"a":}')), /header \(bytes 8\.\.14\) is not valid JSON/);
    formatError(() => readSafetensors(file('{}\0\0')), /not valid JSON/); // NUL padding is not JSON whitespace
    formatError(() => readSafetensors(file('{} x')), /not valid JSON/);
  });

  test('nesting deeper than the format needs (3), refused before JSON.parse', () => {
    formatError(() => readSafetensors(file(`{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}`, 4)), /nests objects or arrays 4 deep at character 29; expected at most 3/);
    formatError(() => readSafetensors(file('{"__metadata__":{"k":[{}]}}')), /4 deep/);
    // Brackets inside strings do not count.
    expect(readSafetensors(file('{"__metadata__":{"k":"[[[{{{"}}')).metadata).toEqual({ k: '[[[{{{' });
    // A megabyte of '[' fails fast (V8's JSON.parse would take about a second on it), without a stack overflow.
    const deep = 500_000;
    formatError(() => readSafetensors(file(`{"w":${'['.repeat(deep)}${']'.repeat(deep)}}`)), /nests objects or arrays 4 deep/);
  });

  test('messages stay short for long names and many dimensions', () => {
    const long = 'n'.repeat(1_000_000);
    const e = formatError(() => readSafetensors(file(`{"${long}":${t('F32', [1], [0, 8])}}`, 4)), /tensor "n{97}\.\.\." has data_offsets/);
    expect(e.message.length).toBeLessThan(300);
    const shape = Array(100_000).fill(1);
    const f = formatError(() => readSafetensors(file(`{"w":${t('F32', shape, [0, 8])}}`, 8)), /shape \[1, 1, 1, 1, 1, 1, 1, 1, \.\.\. \(100000 dimensions\)\] \(1 elements × 4 bytes\)/);
    expect(f.message.length).toBeLessThan(300);
  });

  test('__metadata__ not an object of strings', () => {
    formatError(() => readSafetensors(file('{"__metadata__":["a"]}')), /"__metadata__" is an array in the header; expected an object of strings/);
    formatError(() => readSafetensors(file('{"__metadata__":null}')), /"__metadata__" is null/);
    formatError(() => readSafetensors(file('{"__metadata__":{"epochs":10}}')), /"__metadata__"\."epochs" is number 10; expected a string/);
    formatError(() => readSafetensors(file('{"__metadata__":{"a":{"b":"c"}}}')), /"__metadata__"\."a" is an object/);
  });

  test('tensor entry not an object', () => {
    formatError(() => readSafetensors(file('{"w":[1,2]}')), /tensor "w" is an array in the header/);
    formatError(() => readSafetensors(file('{"w":"F32"}')), /tensor "w" is the string "F32"/);
  });

  test('missing field', () => {
    formatError(() => readSafetensors(file('{"w":{"dtype":"F32","shape":[1]}}', 4)), /tensor "w" has no "data_offsets" field/);
    formatError(() => readSafetensors(file('{"w":{"shape":[1],"data_offsets":[0,4]}}', 4)), /tensor "w" has no "dtype" field/);
    formatError(() => readSafetensors(file('{"w":{"dtype":"F32","data_offsets":[0,4]}}', 4)), /tensor "w" has no "shape" field/);
  });

  test('unknown extra field', () => {
    formatError(
      () => readSafetensors(file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}}', 4)),
      /tensor "w" has an unknown field "stride"/,
    );
  });

  test('unknown dtype', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F128', [1], [0, 16])}}`, 16)), /tensor "w" has dtype "F128"; expected one of BOOL, U8/);
    formatError(() => readSafetensors(file(`{"w":${t('f32', [1], [0, 4])}}`, 4)), /dtype "f32"/);
    formatError(() => readSafetensors(file(`{"w":${t(4, [1], [0, 4])}}`, 4)), /dtype 4/);
    formatError(() => readSafetensors(file(`{"w":${t('toString', [1], [0, 4])}}`, 4)), /dtype "toString"/);
  });

  test('shape not an array of non-negative safe integers', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F32', 1, [0, 4])}}`, 4)), /tensor "w" has shape number 1; expected an array/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', [-1], [0, 4])}}`, 4)), /tensor "w" has shape\[0\] = -1/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1, 1.5], [0, 4])}}`, 4)), /shape\[1\] = 1\.5/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', ['1'], [0, 4])}}`, 4)), /shape\[0\] = "1"/);
    formatError(() => readSafetensors(file('{"w":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}', 4)), /shape\[0\] = 9007199254740992/);
    formatError(() => readSafetensors(file('{"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', 4)), /shape\[0\] = null/); // Infinity
  });

  test('data_offsets not [begin, end] of non-negative safe integers', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], [0, 4, 8])}}`, 4)), /tensor "w" has data_offsets \[0,4,8\]; expected \[begin, end\]/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], { begin: 0 })}}`, 4)), /data_offsets \{"begin":0\}/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], [-4, 0])}}`, 4)), /data_offsets \[-4,0\]; expected two integers/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], [0, 4.5])}}`, 4)), /data_offsets \[0,4\.5\]/);
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], ['0', '4'])}}`, 4)), /data_offsets \["0","4"\]/);
    formatError(() => readSafetensors(file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,1e400]}}', 4)), /data_offsets \[0,null\]/);
  });

  test('begin after end', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F32', [0], [4, 0])}}`, 4)), /tensor "w" has data_offsets \[4, 0\]: begin is after end/);
  });

  test('offsets past the data region', () => {
    const h = `{"w":${t('F32', [2], [0, 8])}}`;
    formatError(() => readSafetensors(file(h, 4)), new RegExp(`tensor "w" has data_offsets \\[0, 8\\] but the data region is only 4 bytes \\(file bytes ${8 + h.length}\\.\\.${12 + h.length}\\)`));
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], [2 ** 52, 2 ** 52 + 4])}}`, 4)), /data region is only 4 bytes/);
  });

  test('element count × dtype size differs from end − begin', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F32', [2, 3], [0, 20])}}`, 20)), /tensor "w" has dtype F32 and shape \[2, 3\] \(6 elements × 4 bytes\) but data_offsets \[0, 20\] span 20 bytes/);
    formatError(() => readSafetensors(file(`{"w":${t('F64', [1], [0, 4])}}`, 4)), /dtype F64 and shape \[1\] \(1 elements × 8 bytes\)/);
  });

  test('element count overflow or beyond the data size, checked before multiplying', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F32', [2 ** 26, 2 ** 26, 2 ** 26], [0, 4])}}`, 4)), /tensor "w" has shape \[67108864, 67108864, 67108864\]: the element count overflows 2\^53/);
    formatError(() => readSafetensors(file(`{"w":${t('U64', [2 ** 49, 2 ** 3], [0, 0])}}`, 0)), /\(4503599627370496 elements × 8 bytes\)/);
    // 2^51 elements × 8 bytes would overflow 2^53 if multiplied first; it is refused as too big for 8 data bytes.
    formatError(() => readSafetensors(file(`{"w":${t('F64', [2 ** 51], [0, 8])}}`, 8)), /2251799813685248 elements × 8 bytes/);
  });

  test('gap: tensors not starting at 0, or not contiguous', () => {
    formatError(() => readSafetensors(file(`{"w":${t('F32', [1], [4, 8])}}`, 8)), /data bytes 0\.\.4 \(file bytes \d+\.\.\d+\) belong to no tensor; tensor "w" starts at 4, expected 0/);
    formatError(() => readSafetensors(file(`{"a":${x4},"b":${t('F32', [1], [8, 12])}}`, 12)), /data bytes 4\.\.8 .* tensor "b" starts at 8, expected 4/);
  });

  test('overlap', () => {
    formatError(
      () => readSafetensors(file(`{"a":${t('F32', [2], [0, 8])},"b":${t('F32', [1], [4, 8])}}`, 8)),
      /tensor "b" \(data_offsets \[4, 8\]\) overlaps tensor "a" \(data_offsets \[0, 8\]\)/,
    );
    formatError(() => readSafetensors(file(`{"a":${x4},"b":${x4}}`, 4)), /tensor "(a|b)" .* overlaps tensor "(a|b)"/);
  });

  test('bytes after the last tensor', () => {
    const h = `{"a":${x4}}`;
    formatError(() => readSafetensors(file(h, 6)), new RegExp(`tensors end at data byte 4 \\(file byte ${12 + h.length}\\) but the file has 2 more bytes`));
    formatError(() => readSafetensors(file('{}', 1)), /tensors end at data byte 0 .* 1 more bytes/);
  });

  test('duplicate keys (JSON.parse would keep only the last)', () => {
    formatError(() => readSafetensors(file(`{"a":${x4},"a":${x4}}`, 4)), /header has the key "a" twice at the top level/);
    formatError(() => readSafetensors(file(`{"a":${x4},"\\u0061":${x4}}`, 4)), /the key "a" twice/);
    formatError(() => readSafetensors(file(`{"__metadata__":{},"__metadata__":{}}`)), /the key "__metadata__" twice/);
    formatError(() => readSafetensors(file('{"a":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4)), /the key "dtype" twice inside "a"/);
    formatError(() => readSafetensors(file('{"__metadata__":{"k":"1","k":"2"}}')), /the key "k" twice inside "__metadata__"/);
    // Keys inside strings are not keys.
    expect(readSafetensors(file('{"__metadata__":{"k":"\\"k\\":1,","j":"{\\"k\\""}}')).metadata).toEqual({ k: '"k":1,', j: '{"k"' });
  });
});

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
