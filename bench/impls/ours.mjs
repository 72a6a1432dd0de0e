// latent-wasm itself, through the same calls the library makes: Kernels.gemm (f32_gemm_nn/nt/tn),
// f32_act_forward/backward, the Adam update of Optimizer.apply, Autoencoder.trainStep after
// staging a batch (what fit() does per batch) and Autoencoder.reconstruct (the public API).
import { init, Autoencoder } from '../../dist/index.js';
import { CARD, internals, stage } from '../lib/common.mjs';

let A, K, ACT;

export const label = (opts) => `latent-wasm (${opts.simd ?? 'strict'} SIMD${opts.threads ? `, ${opts.threads} threads` : ''})`;

export async function setup(opts) {
  await init({ simd: opts.simd ?? 'strict', ...(opts.threads ? { threads: Number(opts.threads) } : {}) });
  let internal;
  ({ A, K, internal } = await internals());
  ACT = internal.ACTIVATIONS;
}

function tensor(values) {
  const t = A.alloc(values.length);
  A.write(t, values);
  return t;
}

export function gemm(list, inputs) {
  // list: [[variant, m, n, k]...]; inputs[i] = { a, b } Float32Arrays
  const ops = list.map(([v, m, n, k], i) => ({ v, m, n, k, a: tensor(inputs[i].a), b: tensor(inputs[i].b), c: A.alloc(m * n) }));
  return {
    run() {
      for (const o of ops) K.gemm(o.v, o.m, o.n, o.k, o.a, o.b, o.c);
    },
    result: (i) => A.read(ops[i].c),
    dispose() {
      for (const o of ops) for (const t of [o.a, o.b, o.c]) A.release(t);
    },
  };
}

/** Batch-1 inference path of Dense.forward: W packed once into panels, then gemm nt from them. */
export function gemmPanels(list, inputs) {
  const ops = list.map(([v, m, n, k], i) => {
    const b = tensor(inputs[i].b);
    const panels = A.alloc(K.ntPanelsSize(n, k));
    K.packNtPanels(n, k, b, panels);
    return { m, n, k, a: tensor(inputs[i].a), b, panels, c: A.alloc(m * n) };
  });
  return {
    run() {
      for (const o of ops) K.gemmNtPanels(o.m, o.n, o.k, o.a, o.panels, o.c);
    },
    result: (i) => A.read(ops[i].c),
    dispose() {
      for (const o of ops) for (const t of [o.a, o.b, o.panels, o.c]) A.release(t);
    },
  };
}

export function elementwise(kind, x, dy) {
  const n = x.length;
  const tx = tensor(x);
  const ty = A.alloc(n);
  const tdy = tensor(dy);
  const tdx = A.alloc(n);
  const relu = ACT.relu;
  K.actForward(relu, 0, tx, ty, n);
  const run = {
    relu: () => K.actForward(relu, 0, tx, ty, n),
    sigmoid: () => K.actForward(ACT.sigmoid, 0, tx, ty, n),
    reluBackward: () => K.actBackward(relu, 0, tx, ty, tdy, tdx, n),
  }[kind];
  return { run, result: () => A.read(kind === 'reluBackward' ? tdx : ty), dispose: () => [tx, ty, tdy, tdx].forEach((t) => A.release(t)) };
}

/** Optimizer.apply() of the card's model: the global gradient norm (one pass over g) + Adam. */
export function adam(grads) {
  const ae = new Autoencoder(CARD);
  const params = [...ae.encoder.params(), ...ae.decoder.params()];
  params.forEach((p, i) => A.write(p.grad, grads[i]));
  return { run: () => ae.optimizer.apply(), dispose: () => ae.dispose() };
}

export function train(batch, x) {
  const ae = new Autoencoder(CARD);
  ae.reserve(batch);
  const xb = A.alloc(batch * 784);
  let loss = NaN;
  const run = () => {
    stage(A, xb, x, batch);
    loss = ae.trainStep(xb, batch);
  };
  return {
    run,
    firstLoss() {
      const fresh = new Autoencoder(CARD);
      fresh.reserve(batch);
      stage(A, xb, x, batch);
      const l = fresh.trainStep(xb, batch);
      fresh.dispose();
      return l;
    },
    lastLoss: () => loss,
    dispose() {
      A.release(xb);
      ae.dispose();
    },
  };
}

/** fit() for one epoch over `data` (shuffled, batch b): the number users see. */
export async function fitEpoch(batch, data) {
  const ae = new Autoencoder(CARD);
  const t0 = performance.now();
  await ae.fit(data, { epochs: 1, batchSize: batch });
  const ms = performance.now() - t0;
  ae.dispose();
  return ms;
}

export function infer(batch, x) {
  const ae = new Autoencoder(CARD);
  const input = x.subarray(0, batch * 784);
  return { run: () => ae.reconstruct(input), dispose: () => ae.dispose() };
}

/** The same model (seed-0 init, the reference weights) quantized: int8 weights, activations
 *  per row (the default of quantize()); QuantizedModel.reconstruct, the public API. */
export function inferInt8(batch, x) {
  const ae = new Autoencoder(CARD);
  const q = ae.quantize();
  ae.dispose();
  const input = x.subarray(0, batch * 784);
  return { run: () => q.reconstruct(input), dispose: () => q.dispose() };
}

export async function teardown() {}
