/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors), the format PyTorch
 * and the HF ecosystem save weights in: an 8-byte little-endian u64 header length N, N bytes of
 * UTF-8 JSON, then the raw little-endian tensor data.
 *
 * The reader is written for untrusted bytes. It checks everything the reference Rust reader
 * checks (see: huggingface/safetensors safetensors/src/tensor.rs, `read_metadata` and
 * `Metadata::validate`) plus what JSON.parse hides (duplicate keys) and unknown fields. Every
 * malformed file throws a FormatError that says what is wrong and where; nothing is allocated
 * in proportion to a size the file claims before that size is checked against the real bytes.
 *
 * Pure TypeScript, no Node APIs: runs in Node, browsers and edge runtimes.
 */
import { FormatError, InputError } from '../errors.js';
import { describe } from '../data.js';

/** The dtypes the reference implementation lists, with their size in bytes. */
const DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type Dtype = keyof typeof DTYPE_SIZES;

/** One tensor of a parsed file. `bytes` is a view into the file's bytes (no copy). */
export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** The `__metadata__` strings, or null when the header has none. */
  metadata: Record<string, string> | null;
  /** Tensors by name, in the order the header lists them. */
  tensors: Map<string, TensorEntry>;
}

/** One tensor to write, row-major, `shape` product equal to `data.length`: F32, or I8 (int8 models). */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array | Int8Array;
}

/** Same limit as the reference reader (MAX_HEADER_SIZE): a larger header is refused unread. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const TENSOR_FIELDS = ['dtype', 'shape', 'data_offsets'];
/** The format is little-endian throughout (DataView's littleEndian flag). */
const LE = true;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a safetensors file. Tensor bytes are views into `bytes`; use {@link toFloat32} to get
 * values. Throws FormatError for any malformed file, InputError if `bytes` is not a Uint8Array.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError(`readSafetensors: bytes must be a Uint8Array; got ${describe(bytes)}`);
  }
  const fileSize = bytes.length;
  if (fileSize < 8) {
    throw new FormatError(`safetensors file is ${fileSize} bytes; expected at least 8 (the u64 header length)`);
  }
  // u64 little-endian, read as two u32 halves so no precision is lost before the range check.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, LE);
  const hi = view.getUint32(4, LE);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    const claimed = hi === 0 ? String(lo) : (BigInt(hi) * 2n ** 32n + BigInt(lo)).toString();
    throw new FormatError(
      `safetensors header length (bytes 0..8) is ${claimed}; expected at most ${MAX_HEADER_BYTES}`,
    );
  }
  const headerLen = lo;
  const dataStart = 8 + headerLen;
  if (dataStart > fileSize) {
    throw new FormatError(
      `safetensors header length is ${headerLen} (header bytes 8..${dataStart}) but the file is only ${fileSize} bytes`,
    );
  }
  // Writers may pad the header with JSON whitespace at the front (to align the data section) as
  // well as at the end, and the reference reader accepts both; JSON.parse allows exactly these
  // four bytes around the value and nothing else (no NUL, no BOM).
  let first = 8;
  while (first < dataStart && isJsonSpace(bytes[first])) first++;
  if (first === dataStart || bytes[first] !== 0x7b) {
    const got = headerLen === 0 ? 'is empty' : first === dataStart ? 'is only whitespace' : `starts with byte 0x${bytes[first].toString(16).padStart(2, '0')}`;
    throw new FormatError(`safetensors header (bytes 8..${dataStart}) ${got}; expected a JSON object starting with '{' (after optional space, tab, CR, LF)`);
  }

  let text: string;
  try {
    // ignoreBOM: keep a byte-order mark as text so it cannot hide in front of the '{'.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw new FormatError(`safetensors header (bytes 8..${dataStart}) is not valid UTF-8`);
  }
  checkNesting(text, 3, `safetensors header (bytes 8..${dataStart})`, ' (header, tensor entry, shape or data_offsets)');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`safetensors header (bytes 8..${dataStart}) is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new FormatError(`safetensors header (bytes 8..${dataStart}) is ${jsonKind(header)}; expected a JSON object`);
  }
  // JSON.parse keeps the last of duplicate keys silently; find them (and the real key order).
  const keys = scanKeys(text);
  const obj = header as Record<string, unknown>;
  const dataSize = fileSize - dataStart;

  let metadata: Record<string, string> | null = null;
  interface Placed { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }
  const placed: Placed[] = [];
  for (const name of keys) {
    const value = ownValue(obj, name);
    if (name === METADATA_KEY) {
      metadata = readMetadata(value);
      continue;
    }
    const where = `tensor ${quote(name)}`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new FormatError(`${where} is ${jsonKind(value)} in the header; expected an object with dtype, shape and data_offsets`);
    }
    const info = value as Record<string, unknown>;
    for (const field of Object.keys(info)) {
      if (!TENSOR_FIELDS.includes(field)) {
        throw new FormatError(`${where} has an unknown field ${quote(field)}; expected only dtype, shape and data_offsets`);
      }
    }
    for (const field of TENSOR_FIELDS) {
      if (!Object.hasOwn(info, field)) throw new FormatError(`${where} has no "${field}" field`);
    }

    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZES, dtype)) {
      throw new FormatError(
        `${where} has dtype ${shortJson(dtype)}; expected one of ${Object.keys(DTYPE_SIZES).join(', ')}`,
      );
    }
    const itemSize = DTYPE_SIZES[dtype as Dtype];

    const shape = info.shape;
    if (!Array.isArray(shape)) throw new FormatError(`${where} has shape ${jsonKind(shape)}; expected an array of integers ≥ 0`);
    // Element count, checked at every step: each factor is a safe integer, so a product above
    // 2^53 shows up as > MAX_SAFE_INTEGER (the rounding is monotonic) and nothing overflows.
    let count = 1;
    for (let d = 0; d < shape.length; d++) {
      const n: unknown = shape[d];
      if (!isCount(n)) {
        throw new FormatError(`${where} has shape[${d}] = ${shortJson(n)}; expected an integer in [0, 2^53)`);
      }
      count *= n;
      if (count > Number.MAX_SAFE_INTEGER) {
        throw new FormatError(`${where} has shape ${dims(shape)}: the element count overflows 2^53`);
      }
    }

    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) {
      throw new FormatError(`${where} has data_offsets ${shortJson(offsets)}; expected [begin, end]`);
    }
    const [begin, end] = offsets as unknown[];
    if (!isCount(begin) || !isCount(end)) {
      throw new FormatError(`${where} has data_offsets ${shortJson(offsets)}; expected two integers in [0, 2^53)`);
    }
    if (begin > end) {
      throw new FormatError(`${where} has data_offsets [${begin}, ${end}]: begin is after end`);
    }
    if (end > dataSize) {
      throw new FormatError(
        `${where} has data_offsets [${begin}, ${end}] but the data region is only ${dataSize} bytes ` +
          `(file bytes ${dataStart}..${fileSize}); the tensor would end at file byte ${dataStart + end}`,
      );
    }
    // count ≤ 2^53 here; comparing it with the data size first keeps count × itemSize small.
    if (count > dataSize || count * itemSize !== end - begin) {
      throw new FormatError(
        `${where} has dtype ${dtype} and shape ${dims(shape)} (${count} elements × ${itemSize} bytes) ` +
          `but data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
      );
    }
    placed.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }

  // Layout: sorted by offset, the tensors must tile the data region exactly, from 0 to its end.
  const sorted = placed.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Placed | null = null;
  for (const t of sorted) {
    if (t.begin < pos) {
      throw new FormatError(
        `tensor ${quote(t.name)} (data_offsets [${t.begin}, ${t.end}]) overlaps tensor ${quote(prev!.name)} ` +
          `(data_offsets [${prev!.begin}, ${prev!.end}])`,
      );
    }
    if (t.begin > pos) {
      throw new FormatError(
        `data bytes ${pos}..${t.begin} (file bytes ${dataStart + pos}..${dataStart + t.begin}) belong to no tensor; ` +
          `tensor ${quote(t.name)} starts at ${t.begin}, expected ${pos} (tensors must be contiguous)`,
      );
    }
    pos = t.end;
    prev = t;
  }
  if (pos !== dataSize) {
    throw new FormatError(
      `the tensors end at data byte ${pos} (file byte ${dataStart + pos}) but the file has ${dataSize - pos} more bytes ` +
        `(it is ${fileSize} bytes); the last tensor must end at the end of the file`,
    );
  }

  const tensors = new Map<string, TensorEntry>();
  for (const t of placed) {
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape.slice(), bytes: bytes.subarray(dataStart + t.begin, dataStart + t.end) });
  }
  return { metadata, tensors };
}

/**
 * Converts a tensor's values to a new Float32Array (always a copy). Reads F32, F64, F16 and
 * BF16 as little-endian whatever the host's byte order and whatever the view's alignment; F64
 * values round to the nearest float32 (±Infinity beyond its range). Other dtypes throw a
 * FormatError naming the tensor (`name`) and its dtype.
 */
export function toFloat32(entry: TensorEntry, name: string): Float32Array {
  if (entry === null || typeof entry !== 'object' || !(entry.bytes instanceof Uint8Array)) {
    throw new InputError(`toFloat32: entry for "${name}" must be a TensorEntry from readSafetensors; got ${describe(entry)}`);
  }
  const src = entry.bytes;
  const itemSize = Object.hasOwn(DTYPE_SIZES, entry.dtype) ? DTYPE_SIZES[entry.dtype] : 0;
  if (itemSize === 0 || src.length % itemSize !== 0) {
    throw new InputError(`toFloat32: entry for "${name}" has dtype ${String(entry.dtype)} and ${src.length} bytes, which do not match`);
  }
  const n = src.length / itemSize;
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(src); // byte copy: no alignment needed
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, LE);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, LE);
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift the bits up.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, LE) << 16;
      break;
    }
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, LE));
      break;
    default:
      throw new FormatError(
        `tensor ${quote(name)} has dtype ${entry.dtype}; toFloat32 converts only F32, F64, F16 and BF16`,
      );
  }
  return out;
}

/**
 * Writes F32 (Float32Array) and I8 (Int8Array) tensors as a safetensors file: data packed in the given order, little-endian; the
 * header JSON (`__metadata__` first when given) padded with spaces to a multiple of 8 bytes,
 * as the reference writer does, so the data starts 8-aligned. Throws InputError for bad
 * arguments (shape vs data length, duplicate or reserved names, non-string metadata values).
 */
export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  if (!Array.isArray(tensors)) {
    throw new InputError(`writeSafetensors: tensors must be an array of { name, shape, data }; got ${describe(tensors)}`);
  }
  // JSON members in file order. (Not an object: it would list integer-like names such as "0"
  // first, and a tensor named "__proto__" would set its prototype.)
  const members: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new InputError(`writeSafetensors: metadata must be an object of strings; got ${describe(metadata)}`);
    }
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new InputError(`writeSafetensors: metadata["${k}"] is ${describe(v)}; expected a string`);
      }
    }
    members.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify({ ...metadata })}`);
  }
  const names = new Set<string>();
  let offset = 0;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i] as Partial<TensorToWrite> | null;
    const what = `writeSafetensors: tensors[${i}]`;
    if (t === null || typeof t !== 'object') throw new InputError(`${what} is ${describe(t)}; expected { name, shape, data }`);
    const { name, shape, data } = t;
    if (typeof name !== 'string') throw new InputError(`${what}.name is ${describe(name)}; expected a string`);
    if (name === METADATA_KEY) throw new InputError(`${what}.name is "${METADATA_KEY}", which the format reserves for metadata`);
    if (names.has(name)) throw new InputError(`${what}.name "${name}" is a duplicate; tensor names must be unique`);
    names.add(name);
    if (!(data instanceof Float32Array) && !(data instanceof Int8Array)) {
      throw new InputError(`${what} ("${name}").data is ${describe(data)}; expected a Float32Array (F32) or an Int8Array (I8)`);
    }
    if (!Array.isArray(shape)) throw new InputError(`${what} ("${name}").shape is ${describe(shape)}; expected an array of integers ≥ 0`);
    let count = 1;
    for (let d = 0; d < shape.length; d++) {
      if (!isCount(shape[d])) {
        throw new InputError(`${what} ("${name}").shape[${d}] is ${describe(shape[d])}; expected an integer ≥ 0`);
      }
      count *= shape[d];
    }
    if (count !== data.length) {
      throw new InputError(
        `${what} ("${name}") has shape [${shape.join(', ')}] (${count} elements) but data has ${data.length} values`,
      );
    }
    const info = { dtype: data instanceof Int8Array ? 'I8' : 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    members.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(`{${members.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  if (headerLen > MAX_HEADER_BYTES) {
    throw new InputError(`writeSafetensors: the header would be ${headerLen} bytes; the format allows at most ${MAX_HEADER_BYTES}`);
  }

  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, LE); // u64 LE; high half stays 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const t of tensors) {
    if (LITTLE_ENDIAN_HOST || t.data instanceof Int8Array) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i], LE);
    pos += t.data.byteLength;
  }
  return out;
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FormatError(`"${METADATA_KEY}" is ${jsonKind(value)} in the header; expected an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new FormatError(`"${METADATA_KEY}".${quote(k)} is ${jsonKind(v)}; expected a string`);
    }
    // defineProperty: a key "__proto__" stays an ordinary entry.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** JSON whitespace (RFC 8259 §2): space, tab, LF, CR. */
function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * Refuses JSON text that nests objects or arrays deeper than `max` (a valid header nests 3 deep:
 * header { tensor { shape [ ] } }), before JSON.parse: V8 parses a few MB of '[[[[...' in about
 * a second. Works on any text (strings are skipped, nothing else is assumed valid). `what` names
 * the text in the FormatError, `why` says what the allowed levels are.
 */
export function checkNesting(text: string, max: number, what: string, why: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) {
        throw new FormatError(`${what} nests objects or arrays ${depth} deep at character ${i}; expected at most ${max}${why}`);
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
}

/**
 * Scans header text that JSON.parse has accepted and returns its top-level keys in file order.
 * Throws a FormatError on a duplicate key in any object (JSON.parse keeps only the last one,
 * so a duplicate tensor could hide). Iterative: nesting depth cannot overflow the stack.
 */
function scanKeys(text: string): string[] {
  interface Frame { keys: Set<string> | null; expectKey: boolean; name: string; last: string }
  const stack: Frame[] = [];
  const top: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const f = stack[stack.length - 1];
      if (f !== undefined && f.keys !== null && f.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (f.keys.has(key)) {
          const where = stack.length === 1 ? 'at the top level of the header' : `inside ${f.name}`;
          throw new FormatError(`safetensors header has the key ${quote(key)} twice ${where}`);
        }
        f.keys.add(key);
        f.last = key;
        f.expectKey = false;
        if (stack.length === 1) top.push(key);
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const name = parent === undefined ? 'the header' : parent.keys !== null ? quote(parent.last) : `an array in ${parent.name}`;
      stack.push({ keys: c === 0x7b ? new Set() : null, expectKey: true, name, last: '' });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const f = stack[stack.length - 1];
      if (f !== undefined) f.expectKey = true;
    }
  }
  return top;
}

/** IEEE 754 binary16 bits → number (exact; every half fits in a float32). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A shape for a message, cut after 8 dimensions. */
function dims(shape: unknown[]): string {
  return shape.length > 8 ? `[${shape.slice(0, 8).join(', ')}, ... (${shape.length} dimensions)]` : `[${shape.join(', ')}]`;
}

/** A name for a message: quoted, and cut if long (a header may hold a megabyte-long key). */
function quote(s: string): string {
  return s.length > 100 ? `"${s.slice(0, 97)}..."` : `"${s}"`;
}

function ownValue(obj: Record<string, unknown>, key: string): unknown {
  return Object.getOwnPropertyDescriptor(obj, key)?.value;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${shortJson(v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * At most `limit` characters of `v` as JSON, for error messages. Iterative and bounded: a header
 * value can be nested a million levels deep (JSON.stringify would overflow the stack) or be
 * megabytes long.
 */
function shortJson(v: unknown, limit = 60): string {
  type Frame = { items: unknown[]; keys: string[] | null; i: number };
  const stack: Frame[] = [];
  let out = '';
  let next: unknown = v;
  let pending = true;
  while (out.length <= limit) {
    if (pending) {
      pending = false;
      if (Array.isArray(next)) {
        out += '[';
        stack.push({ items: next, keys: null, i: 0 });
      } else if (next !== null && typeof next === 'object') {
        out += '{';
        const keys = Object.keys(next);
        stack.push({ items: keys.map((k) => ownValue(next as Record<string, unknown>, k)), keys, i: 0 });
      } else {
        const s = typeof next === 'string' ? next.slice(0, limit + 1) : next;
        out += JSON.stringify(s) ?? String(s);
      }
    }
    const f = stack[stack.length - 1];
    if (f === undefined) break;
    if (f.i >= f.items.length) {
      out += f.keys === null ? ']' : '}';
      stack.pop();
      continue;
    }
    if (f.i > 0) out += ',';
    if (f.keys !== null) out += `${JSON.stringify(f.keys[f.i].slice(0, limit + 1))}:`;
    next = f.items[f.i++];
    pending = true;
  }
  return out.length > limit ? `${out.slice(0, limit - 3)}...` : out;
}
