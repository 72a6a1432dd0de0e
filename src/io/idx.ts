/**
 * IDX reader: the format of the MNIST files (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS
 * FOR THE MNIST DATABASE"), gzip-compressed or not.
 *
 * Layout: bytes 0-1 are 0, byte 2 the value type, byte 3 the number of dimensions; then one
 * big-endian u32 per dimension; then the values, big-endian, row-major. Gzip input (starting
 * 1f 8b) is inflated with the web-standard DecompressionStream (Node ≥ 18, browsers, edge
 * runtimes); no Node-only API is used here.
 */
import { FormatError, InputError, RuntimeError } from '../errors.js';
import { checkKeys, describe } from '../data.js';

export type IdxType = 'ubyte' | 'byte' | 'short' | 'int' | 'float' | 'double';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxFile {
  /** The value type the file declares. */
  type: IdxType;
  /** The dimensions, outermost first (MNIST images: [count, 28, 28]). */
  shape: number[];
  /** The values, row-major, in the natural typed array of `type` (ubyte → Uint8Array, ...). */
  data: IdxData;
}

export interface ReadIdxOptions {
  /**
   * The most data bytes (after decompression) to accept: a file that declares more is refused
   * before anything is allocated, and a gzip stream is stopped as soon as it inflates past the
   * size its dimensions declare. Default 2^30 (1 GiB; MNIST's largest file has 47 MB).
   */
  maxBytes?: number;
}

/** IDX is big-endian throughout (DataView's littleEndian flag = false). */
const BE = false;

const TYPES: Record<number, { type: IdxType; size: number }> = {
  0x08: { type: 'ubyte', size: 1 },
  0x09: { type: 'byte', size: 1 },
  0x0b: { type: 'short', size: 2 },
  0x0c: { type: 'int', size: 4 },
  0x0d: { type: 'float', size: 4 },
  0x0e: { type: 'double', size: 8 },
};

/**
 * Reads an IDX file (gzip-compressed or not). Throws FormatError for a malformed file: bad
 * magic, unknown type, a length that disagrees with the dimensions, a truncated or corrupt
 * gzip stream.
 */
export async function readIdx(bytes: Uint8Array, options: ReadIdxOptions = {}): Promise<IdxFile> {
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError(`readIdx: bytes must be a Uint8Array; got ${describe(bytes)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InputError(`readIdx: options must be an object; got ${describe(options)}`);
  }
  checkKeys(options, ['maxBytes'], 'readIdx options');
  const maxBytes = options.maxBytes ?? 2 ** 30;
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new InputError(`readIdx: options.maxBytes must be an integer ≥ 0; got ${String(maxBytes)}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return parse(await gunzip(bytes, maxBytes), maxBytes, ' (after gunzip)');
  }
  return parse(bytes, maxBytes, '');
}

/**
 * The values as a new Float32Array, each multiplied by `scale` (default 1): e.g.
 * `idxToFloat32(images, { scale: 1 / 255 })` maps MNIST pixels to [0, 1].
 */
export function idxToFloat32(idx: IdxFile, options: { scale?: number } = {}): Float32Array {
  if (idx === null || typeof idx !== 'object' || !ArrayBuffer.isView(idx.data)) {
    const hint = idx instanceof Promise ? ' (readIdx returns a Promise: await it)' : '';
    throw new InputError(`idxToFloat32: idx must be the result of readIdx; got ${describe(idx)}${hint}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InputError(`idxToFloat32: options must be an object like { scale: 1 / 255 }; got ${describe(options)}`);
  }
  checkKeys(options, ['scale'], 'idxToFloat32 options');
  const scale = options.scale ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale)) {
    throw new InputError(`idxToFloat32: options.scale must be a finite number; got ${String(scale)}`);
  }
  const src = idx.data;
  const out = new Float32Array(src.length);
  if (scale === 1) out.set(src);
  else for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  return out;
}

/** Parses an uncompressed IDX file. `note` marks messages about inflated bytes. */
function parse(bytes: Uint8Array, maxBytes: number, note: string): IdxFile {
  const { type, size, shape, dataStart, dataBytes } = parseHeader(bytes, maxBytes, note);
  const have = bytes.length - dataStart;
  if (have !== dataBytes) {
    const what = have < dataBytes ? 'is truncated' : `has ${have - dataBytes} bytes too many`;
    throw new FormatError(
      `IDX file${note} ${what}: shape [${shape.join(', ')}] of ${type} (${size} bytes each) needs ` +
        `${dataBytes} data bytes after the ${dataStart}-byte header, but there are ${have}`,
    );
  }
  const count = dataBytes / size;
  const src = bytes.subarray(dataStart);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let data: IdxData;
  switch (type) {
    case 'ubyte':
      data = src.slice();
      break;
    case 'byte':
      data = new Int8Array(src.slice().buffer);
      break;
    case 'short': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(2 * i, BE);
      data = a;
      break;
    }
    case 'int': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(4 * i, BE);
      data = a;
      break;
    }
    case 'float': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(4 * i, BE);
      data = a;
      break;
    }
    case 'double': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(8 * i, BE);
      data = a;
      break;
    }
  }
  return { type, shape, data };
}

interface Header {
  type: IdxType;
  size: number;
  shape: number[];
  dataStart: number;
  dataBytes: number;
}

/** Reads magic, type and dimensions from `bytes`, which must hold at least the whole header. */
function parseHeader(bytes: Uint8Array, maxBytes: number, note: string): Header {
  if (bytes.length < 4) {
    throw new FormatError(`IDX file${note} is ${bytes.length} bytes; expected at least 4 (the magic number)`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(
      `IDX file${note} starts with bytes ${hex(bytes[0])} ${hex(bytes[1])}; expected 00 00 (IDX magic) or 1f 8b (gzip)`,
    );
  }
  const t = TYPES[bytes[2]];
  if (t === undefined) {
    throw new FormatError(
      `IDX file${note} has type byte ${hex(bytes[2])} (byte 2); expected 08 (ubyte), 09 (byte), 0b (short), 0c (int), 0d (float) or 0e (double)`,
    );
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new FormatError(`IDX file${note} has 0 dimensions (byte 3); expected at least 1`);
  const dataStart = 4 + 4 * ndims;
  if (bytes.length < dataStart) {
    throw new FormatError(
      `IDX file${note} is truncated: ${ndims} dimensions need a ${dataStart}-byte header but the file has ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, BE);
    shape.push(n);
    count *= n; // each factor < 2^32: a product past 2^53 shows as > MAX_SAFE_INTEGER
    if (count > Number.MAX_SAFE_INTEGER) {
      throw new FormatError(`IDX file${note} has dimensions whose product overflows 2^53 (at dimension ${d})`);
    }
  }
  const dataBytes = count * t.size; // exact: count ≤ 2^53 and the size is a power of two
  if (dataBytes > maxBytes) {
    throw new FormatError(
      `IDX file${note} declares shape [${shape.join(', ')}] of ${t.type}: ${dataBytes} data bytes, more than ` +
        `maxBytes (${maxBytes})`,
    );
  }
  return { type: t.type, size: t.size, shape, dataStart, dataBytes };
}

/**
 * Inflates gzip bytes, never holding more than the size the IDX header inside declares (plus
 * one chunk): a small corrupt or malicious file cannot make it allocate gigabytes.
 */
async function gunzip(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (typeof DecompressionStream !== 'function') {
    throw new RuntimeError('readIdx: this runtime has no DecompressionStream (needed for gzip input); decompress the file first');
  }
  // Streams refuse views over a SharedArrayBuffer; copy only in that case.
  const input = (bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
  const source = new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(input);
      controller.close();
    },
  });
  const reader = source.pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let limit = Infinity; // header bytes + data bytes, once the header has arrived
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (e) {
        throw new FormatError(`IDX gzip stream is corrupt or truncated: ${(e as Error)?.message ?? String(e)}`);
      }
      if (result.done) break;
      chunks.push(result.value);
      total += result.value.length;
      if (limit === Infinity && total >= 4) {
        const head = concat(chunks, total);
        const ndims = head[3];
        if (total >= 4 + 4 * ndims || head[0] !== 0 || head[1] !== 0 || TYPES[head[2]] === undefined || ndims === 0) {
          const h = parseHeader(head, maxBytes, ' (after gunzip)');
          limit = h.dataStart + h.dataBytes;
        }
      }
      if (total > limit) {
        throw new FormatError(
          `IDX file (after gunzip) has more bytes than its dimensions declare (${limit}); stopped reading at ${total}`,
        );
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  chunks.length = 0;
  chunks.push(out);
  return out;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
