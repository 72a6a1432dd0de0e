// A protobuf writer with just what ONNX files need: varints (wire type 0), length-delimited
// fields (2: bytes, strings, nested messages, packed arrays) and fixed32 floats (5). Encoding per
// https://protobuf.dev/programming-guides/encoding/. Kept in-house rather than on protobufjs or
// @bufbuild/protobuf: the library has zero runtime dependencies, and writing (never reading)
// three wire types takes less code than adapting a generated schema.

import { InputError } from '../errors.js';

const utf8 = new TextEncoder();

/** One message under construction: a list of byte chunks, concatenated by finish(). */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  /** A varint field (int32, int64, enum, bool). Negative values take 10 bytes (two's complement
   *  over 64 bits), as protobuf encodes a negative int64. */
  int(field: number, value: number): this {
    this.push(varint(field * 8 + 0));
    return this.push(varint(value));
  }

  /** A length-delimited field: raw bytes. */
  bytes(field: number, data: Uint8Array): this {
    this.push(varint(field * 8 + 2));
    this.push(varint(data.length));
    return this.push(data);
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  /** A fixed32 field holding an IEEE-754 single (protobuf `float`), little-endian. */
  float(field: number, value: number): this {
    this.push(varint(field * 8 + 5));
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.push(b);
  }

  /** The serialized message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
}

/** Base-128 varint of an integer in [−2⁶³, 2⁵³]; negatives as their 64-bit two's complement. */
export function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new InputError(`a protobuf varint must be a safe integer; got ${value}`);
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? low | 0x80 : low);
  } while (v);
  return Uint8Array.from(out);
}
