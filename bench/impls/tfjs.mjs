// TensorFlow.js 4.22 as a user would run it: backend 'cpu' (plain JS kernels) or 'wasm' (XNNPACK,
// SIMD, one thread). Stock API only: tf.matMul with transpose flags, tf.relu/sigmoid, the Adam
// optimizer's applyGradients, a tf.sequential model trained with trainOnBatch (Adam 1e-3,
// binaryCrossentropy) and model.predict + dataSync for inference.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { LAYERS, ROOT, layersWithWeights } from '../lib/common.mjs';

export const label = (opts) => (opts.backend === 'wasm' ? 'TF.js 4.22 WASM (XNNPACK SIMD)' : 'TF.js 4.22 CPU');

export async function setup(opts) {
  if (opts.backend === 'wasm') {
    // In Node the Emscripten loader reads the .wasm with fs from this prefix.
    setWasmPaths(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
    // One thread, SIMD: the same single-core conditions as ours (Node has SharedArrayBuffer, so
    // tfjs would otherwise pick the threaded build).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
  }
  if (!(await tf.setBackend(opts.backend))) throw new Error(`tf.setBackend('${opts.backend}') failed`);
  await tf.ready();
}

export function gemm(list, inputs) {
  const ops = list.map(([v, m, n, k], i) => ({
    a: v === 'tn' ? tf.tensor2d(inputs[i].a, [k, m]) : tf.tensor2d(inputs[i].a, [m, k]),
    b: v === 'nt' ? tf.tensor2d(inputs[i].b, [n, k]) : tf.tensor2d(inputs[i].b, [k, n]),
    tA: v === 'tn',
    tB: v === 'nt',
  }));
  return {
    run() {
      for (const o of ops) tf.matMul(o.a, o.b, o.tA, o.tB).dispose();
    },
    result(i) {
      const o = ops[i];
      const c = tf.matMul(o.a, o.b, o.tA, o.tB);
      const d = c.dataSync().slice();
      c.dispose();
      return d;
    },
    dispose: () => ops.forEach((o) => (o.a.dispose(), o.b.dispose())),
  };
}

export function elementwise(kind, x, dy) {
  const tx = tf.tensor1d(x);
  const tdy = tf.tensor1d(dy);
  // relu's gradient as tfjs-core's Relu grad computes it: dy · step(x)
  const op = { relu: () => tf.relu(tx), sigmoid: () => tf.sigmoid(tx), reluBackward: () => tf.tidy(() => tf.mul(tdy, tf.step(tx))) }[kind];
  return {
    run: () => op().dispose(),
    result() {
      const y = op();
      const d = y.dataSync().slice();
      y.dispose();
      return d;
    },
    dispose: () => (tx.dispose(), tdy.dispose()),
  };
}

export function adam(grads) {
  const opt = tf.train.adam(1e-3);
  const vars = grads.map((g, i) => tf.variable(tf.zeros([g.length]), true, `p${i}`));
  const named = Object.fromEntries(grads.map((g, i) => [`p${i}`, tf.tensor1d(g)]));
  return {
    run: () => opt.applyGradients(named),
    dispose() {
      vars.forEach((v) => v.dispose());
      Object.values(named).forEach((t) => t.dispose());
      opt.dispose();
    },
  };
}

function transpose(w, rows, cols) {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

/** The card's model as a Keras-style tf.sequential with OUR initial weights (kernel = Wᵀ). */
function model(weights, withOptimizer) {
  const m = tf.sequential();
  LAYERS.forEach(([inn, out, act], i) => m.add(tf.layers.dense({ units: out, activation: act, ...(i === 0 ? { inputShape: [inn] } : {}) })));
  if (withOptimizer) m.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  const ws = layersWithWeights(weights).flatMap((l) => [tf.tensor2d(transpose(l.weight, l.out, l.in), [l.in, l.out]), tf.tensor1d(l.bias)]);
  m.setWeights(ws);
  ws.forEach((w) => w.dispose());
  return m;
}

export function train(batch, x, weights) {
  const m = model(weights, true);
  const xt = tf.tensor2d(x.subarray(0, batch * 784), [batch, 784]);
  let loss = NaN;
  return {
    run: async () => {
      loss = await m.trainOnBatch(xt, xt);
    },
    async firstLoss() {
      const fresh = model(weights, true);
      const l = await fresh.trainOnBatch(xt, xt);
      fresh.dispose();
      return l;
    },
    lastLoss: () => loss,
    dispose: () => (xt.dispose(), m.dispose()),
  };
}

export function infer(batch, x, weights) {
  const m = model(weights, false);
  const input = x.subarray(0, batch * 784);
  return {
    run() {
      const t = tf.tensor2d(input, [batch, 784]);
      const y = m.predict(t, { batchSize: batch });
      const out = y.dataSync();
      t.dispose();
      y.dispose();
      return out;
    },
    dispose: () => m.dispose(),
  };
}

export async function teardown() {}
