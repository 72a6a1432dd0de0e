// The threaded core in this process: in Node, and in Chromium (the browser project serves the
// page cross-origin isolated, COOP + COEP, so it has SharedArrayBuffer; the workers are module
// Workers from a Blob URL there). Products split across 3 threads give the bits of the
// single-threaded strict build (a separate core in the same engine) for every GEMM variant and
// grid shape, a model trains to the same weights with the pool and without it, and a failing
// product turns into an error that leaves the weights as they were.
import { beforeAll, describe, expect, test } from 'vitest';
import { Autoencoder, init, runtimeInfo, type OptimizerConfig } from '../src/index.js';
import { ACTIVATIONS, arena, kernels, poolWorkerTasks } from '../src/internal.js';
import { RuntimeError } from '../src/errors.js';
import { createCore } from '../src/runtime/load.js';
import { Scratch } from './helpers/core.js';
import type { GemmVariant } from '../src/runtime/kernels.js';

beforeAll(async () => {
  await init({ threads: 3 });
});

/** Deterministic values in [-1, 1), exact in f32. */
function values(n: number, seed: number): Float32Array {
  let s = seed | 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 2048) / 1024 - 1;
  });
}

describe('the threaded core', () => {
  test('runs on 3 threads with shared memory here', () => {
    expect(runtimeInfo()).toEqual({ simd: 'strict', threads: 3, sharedMemory: true });
  });

  // shapes: the card model's products, odd sizes (edge tiles in every task), a narrow n (row
  // bands), accumulate on and off
  const cases: [GemmVariant, number, number, number, boolean][] = [
    ['nt', 64, 256, 784, false],
    ['nn', 64, 784, 256, false],
    ['tn', 256, 784, 64, false],
    ['nt', 97, 171, 301, true],
    ['nn', 203, 37, 129, false],
    ['tn', 131, 250, 77, true],
    ['nn', 300, 8, 513, false],
  ];
  // (which thread takes which task is timing; the model test below checks that workers took part)
  test.each(cases)('gemm %s %i×%i×%i (accumulate %s): the serial build\'s bits', async (variant, m, n, k, acc) => {
    const serial = new Scratch((await createCore()).exports);
    const [ar, br] = variant === 'tn' ? [k, m] : [m, k];
    const [bRows, bCols] = variant === 'nt' ? [n, k] : [k, n];
    const a = values(ar * br, m * 7 + 1);
    const b = values(bRows * bCols, n * 13 + 2);
    const c0 = values(m * n, k + 3);
    // the serial build
    const pa = serial.put(a), pb = serial.put(b), pc = serial.put(c0);
    const f = { nn: serial.ex.f32_gemm_nn, nt: serial.ex.f32_gemm_nt, tn: serial.ex.f32_gemm_tn }[variant];
    f(m, n, k, pa, pb, pc, acc ? 1 : 0);
    const want = serial.f32(pc, m * n).slice();
    // the threaded core, through Kernels (as every layer calls it)
    const A = arena();
    const [ta, tb, tc] = [A.alloc(a.length), A.alloc(b.length), A.alloc(c0.length)];
    try {
      A.write(ta, a);
      A.write(tb, b);
      A.write(tc, c0);
      kernels().gemm(variant, m, n, k, ta, tb, tc, acc);
      const got = A.read(tc);
      expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
      // and it is the product: one element against a float64 dot product
      const i = m >> 1, j = n >> 1;
      let dot = acc ? c0[i * n + j] : 0;
      for (let p = 0; p < k; p++) {
        const av = variant === 'tn' ? a[p * m + i] : a[i * k + p];
        const bv = variant === 'nt' ? b[j * k + p] : b[p * n + j];
        dot += av * bv;
      }
      expect(got[i * n + j]).toBeCloseTo(dot, 3);
    } finally {
      for (const t of [ta, tb, tc]) A.release(t);
    }
  });

  test.each([
    ['sigmoid', 256, 784],
    ['gelu', 37, 1901],
    ['relu', 4096, 9],
  ] as const)('bias + %s over %i×%i (split by rows): the serial build\'s bits', async (act, m, n) => {
    const serial = new Scratch((await createCore()).exports);
    const z0 = values(m * n, m + n);
    const bias = values(n, 5);
    const id = ACTIVATIONS[act];
    const pz = serial.put(z0), pb = serial.put(bias), py = serial.alloc(m * n);
    serial.ex.f32_bias_act(id, 0, pz, pb, py, m, n);
    const A = arena();
    const [tz, tb, ty] = [A.alloc(m * n), A.alloc(n), A.alloc(m * n)];
    try {
      A.write(tz, z0);
      A.write(tb, bias);
      kernels().biasAct(id, 0, tz, tb, ty, m, n);
      expect(new Uint32Array(A.read(ty).buffer)).toEqual(new Uint32Array(serial.f32(py, m * n).slice().buffer));
      expect(new Uint32Array(A.read(tz).buffer)).toEqual(new Uint32Array(serial.f32(pz, m * n).slice().buffer));
    } finally {
      for (const t of [tz, tb, ty]) A.release(t);
    }
  });

  test.each([
    [256, 784, true],
    [64, 1000, false],
    [1500, 40, true], // more rows than the pool keeps totals for: the calling thread alone
  ])('BCE from the sigmoid output over %i×%i (grad %s), split by rows: the serial build\'s loss and gradient bits', async (m, n, withGrad) => {
    const serial = new Scratch((await createCore()).exports);
    const z = values(m * n, 3 * m + n).map((v) => v * 8);
    const y = z.map((v) => 1 / (1 + Math.exp(-v))); // any probabilities consistent with z's sign
    const t = values(m * n, 11).map((v) => (v + 1) / 2);
    const [pz, py, pt, pg] = [serial.put(z), serial.put(y), serial.put(t), serial.alloc(m * n)];
    const want = serial.ex.f32_loss_bce_sigmoid(pz, py, pt, withGrad ? pg : 0, m, n, 0.5);
    const A = arena();
    const ts = [A.alloc(m * n), A.alloc(m * n), A.alloc(m * n), A.alloc(m * n)];
    try {
      [z, y, t].forEach((v, i) => A.write(ts[i], v));
      const got = A.ex.f32_loss_bce_sigmoid(ts[0].offset, ts[1].offset, ts[2].offset, withGrad ? ts[3].offset : 0, m, n, 0.5);
      expect(Object.is(got, want) && got > 0).toBe(true);
      expect(new Uint32Array(A.read(ts[3]).buffer)).toEqual(new Uint32Array(serial.f32(pg, m * n).slice().buffer));
    } finally {
      for (const x of ts) A.release(x);
    }
  });

  test('small products stay on the calling thread', () => {
    const A = arena();
    const [ta, tb, tc] = [A.alloc(784), A.alloc(784 * 256), A.alloc(256)];
    try {
      const before = poolWorkerTasks();
      kernels().gemm('nt', 1, 256, 784, ta, tb, tc); // batch-1 inference
      expect(poolWorkerTasks()).toBe(before);
    } finally {
      for (const t of [ta, tb, tc]) A.release(t);
    }
  });

  test('models train to the same weights with the pool as on the calling thread alone (every optimizer); a failed product changes nothing', async () => {
    const x = values(256 * 200, 99).map((v) => (v + 1) / 2);
    const config = { inputSize: 200, hidden: [128], latentSize: 24, outputActivation: 'sigmoid' as const, loss: 'bce' as const, seed: 4 };
    // each update kernel is split into ranges on the pool (58,000 parameters: 4 ranges)
    const optimizers: OptimizerConfig[] = [
      { type: 'adam' },
      { type: 'adamw', amsgrad: true },
      { type: 'sgd', momentum: 0.9, nesterov: true },
      { type: 'rmsprop', momentum: 0.5, centered: true },
      { type: 'adagrad' },
      { type: 'adadelta', learningRate: 1 },
    ];
    const train = async () => {
      const out = [];
      for (const optimizer of optimizers) {
        const ae = new Autoencoder({ ...config, optimizer });
        try {
          await ae.fit(x, { epochs: 2, batchSize: 64 });
          // and the int8 model of it: its products split by rows too
          const q = ae.quantize();
          out.push({ weights: ae.getWeights(), recon: ae.reconstruct(x), int8: q.reconstruct(x) });
          q.dispose();
        } finally {
          ae.dispose();
        }
      }
      return out;
    };
    const before = poolWorkerTasks();
    const pooled = await train();
    expect(poolWorkerTasks()).toBeGreaterThan(before);

    // A worker that traps mid-product. The product (40×80, k = 20,000: 8 row bands of 5 rows,
    // the pool's grid for a narrow C) writes its first band into the free tail of memory and
    // every other band past its end: the calling thread claims the first task, a long valid
    // one, so a worker claims the second and traps there. The caller then abandons the product
    // with a RuntimeError, the pool stops, and a model's weights are untouched. (If this thread
    // got to a failing band first, the trap itself is thrown and the pool goes on: try again.)
    const ae = new Autoencoder(config);
    const w0 = ae.getWeights();
    const A = arena();
    const [m, n, k] = [40, 80, 20_000];
    const [ta, tb, warm] = [A.alloc(m * k), A.alloc(k * n), A.alloc(m * n)];
    A.release(A.alloc(1 << 22)); // memory grows; its tail stays free (alloc zero-fills what it hands out)
    const band = 5 * n * 4;
    const outside = { id: 0, offset: A.memoryBytes() - band, size: m * n, shape: [m, n] };
    let workerError: unknown = null;
    for (let attempt = 0; attempt < 50 && workerError === null; attempt++) {
      kernels().gemm('nn', m, n, k, ta, tb, warm); // a valid product first: the workers are awake
      try {
        kernels().gemm('nn', m, n, k, ta, tb, outside);
        throw new Error('the product outside memory did not trap');
      } catch (e) {
        if (e instanceof RuntimeError) workerError = e;
        else expect(String(e)).toMatch(/memory access out of bounds/);
      }
    }
    A.release(warm);
    A.release(ta);
    A.release(tb);
    expect(workerError).toBeInstanceOf(RuntimeError);
    expect(String(workerError)).toMatch(/a worker thread of the core failed .*now runs on the calling thread/);
    expect(runtimeInfo()).toEqual({ simd: 'strict', threads: 1, sharedMemory: true });
    expect(ae.getWeights()).toEqual(w0);
    ae.dispose();

    // now on the calling thread alone: the same bits as with the pool
    const tasks = poolWorkerTasks();
    const alone = await train();
    expect(poolWorkerTasks()).toBe(tasks);
    optimizers.forEach((o, i) => {
      for (const k of Object.keys(pooled[i].weights)) {
        expect(new Uint32Array(alone[i].weights[k].buffer), `${o.type} ${k}`).toEqual(new Uint32Array(pooled[i].weights[k].buffer));
      }
      expect(new Uint32Array(alone[i].recon.buffer), o.type).toEqual(new Uint32Array(pooled[i].recon.buffer));
      expect(new Uint32Array(alone[i].int8.buffer), `${o.type} int8`).toEqual(new Uint32Array(pooled[i].int8.buffer));
    });
  });
});
