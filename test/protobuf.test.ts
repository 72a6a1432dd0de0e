// The in-house protobuf writer against the byte examples of the encoding guide
// (https://protobuf.dev/programming-guides/encoding/) and a scalar decoder written here.
import { expect, test } from 'vitest';
import { ProtoWriter, varint } from '../src/io/protobuf.js';

const hex = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join(' ');

test('varints: the guide\'s examples, 7-bit boundaries, 64-bit negatives', () => {
  expect(hex(varint(1))).toBe('01');
  expect(hex(varint(150))).toBe('96 01'); // "10010110 00000001"
  expect(hex(varint(127))).toBe('7f');
  expect(hex(varint(128))).toBe('80 01');
  expect(hex(varint(16383))).toBe('ff 7f');
  expect(hex(varint(16384))).toBe('80 80 01');
  expect(hex(varint(2 ** 32))).toBe('80 80 80 80 10');
  expect(hex(varint(Number.MAX_SAFE_INTEGER))).toBe('ff ff ff ff ff ff ff 0f');
  // int64 −1 and −2: ten bytes, the two's complement over 64 bits
  expect(hex(varint(-1))).toBe('ff ff ff ff ff ff ff ff ff 01');
  expect(hex(varint(-2))).toBe('fe ff ff ff ff ff ff ff ff 01');
});

/** Scalar decoder of a varint at `at`: [value as bigint, next offset]. */
function readVarint(b: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[at++];
    v |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) return [v, at];
  }
}

test('varints decode back to their values (two\'s complement for negatives)', () => {
  for (const n of [0, 1, 5, 127, 128, 300, 65535, 2 ** 31, 2 ** 40 + 7, -1, -128, -(2 ** 40)]) {
    const [v, end] = readVarint(varint(n), 0);
    expect(BigInt.asIntN(64, v)).toBe(BigInt(n));
    expect(end).toBe(varint(n).length);
  }
});

test('fields: the guide\'s Test1 (a = 150), Test2 (b = "testing"), Test3 (c = Test1), a float', () => {
  expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('08 96 01');
  expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('12 07 74 65 73 74 69 6e 67');
  expect(hex(new ProtoWriter().message(3, new ProtoWriter().int(1, 150)).finish())).toBe('1a 03 08 96 01');
  // fixed32 (wire type 5), little-endian IEEE single: 1.5 = 0x3fc00000; field 2 → tag 0x15
  expect(hex(new ProtoWriter().float(2, 1.5).finish())).toBe('15 00 00 c0 3f');
  // UTF-8 strings count bytes, not characters; fields concatenate in order
  expect(hex(new ProtoWriter().string(1, 'μ').int(20, 7).finish())).toBe('0a 02 ce bc a0 01 07');
  // a field number above 15 takes a two-byte tag: (20 << 3) | 0 = 160
  expect(hex(new ProtoWriter().int(20, 2).finish())).toBe('a0 01 02');
});
