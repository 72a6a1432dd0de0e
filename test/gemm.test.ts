// f32_gemm_nn / _nt / _tn, and nt from packed panels (f32_pack_nt_panels + f32_gemm_nt_panels,
// variant 'ntp' here), against scalar references, in both builds.
//
// Three kinds of check:
// - exact: small-integer data, where every partial sum is exactly representable in f32, so any
//   correct kernel must return the float64 reference exactly (catches indexing and edge bugs with
//   no tolerance at all);
// - close: uniform [-1, 1) data against a float64 reference, with tolerance
//   (1e-5 + 1e-6·|ref|)·sqrt(k): the f32 rounding error of a k-term sum of such products grows
//   like sqrt(k)·2^-24·rms(partial sums) ≈ 2e-8·k, which this bound exceeds ~15× at k = 784;
// - bitwise: the core's documented summation order (assembly/gemm.ts: c = init, then one madd per
//   p in increasing order). The strict build must equal a Math.fround emulation of that order
//   bit for bit; in both builds an element must not depend on m, its row, the path taken
//   (small-m direct or packed), the variant, or the call.
import { describe, test } from 'vitest';
import { BUILDS, scratchCore, type Scratch } from './helpers/core.js';
import { expectAllClose, mulberry32, randomArray } from './helpers/reference.js';
import { init } from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { Kernels } from '../src/runtime/kernels.js';
import { Rng } from '../src/runtime/rng.js';
import { Dense } from '../src/nn/layers.js';

type Variant = 'nn' | 'nt' | 'tn' | 'ntp';
const VARIANTS: Variant[] = ['nn', 'nt', 'tn', 'ntp'];

/** Logical operands: A [m×k], B [k×n], row-major. */
interface Problem {
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  b: Float32Array;
}

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

/** A and B as the variant stores them: nt takes B [n×k], tn takes A [k×m]. */
function stored(v: Variant, p: Problem): { a: Float32Array; b: Float32Array } {
  return {
    a: v === 'tn' ? transpose(p.a, p.m, p.k) : p.a,
    b: v === 'nt' || v === 'ntp' ? transpose(p.b, p.k, p.n) : p.b,
  };
}

/** float64 reference: init + Σ_p a[i,p]·b[p,j]. */
function refF64(p: Problem, init: Float32Array | null): Float64Array {
  const { m, n, k, a, b } = p;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = init ? init[i * n + j] : 0;
      for (let q = 0; q < k; q++) s += a[i * k + q] * b[q * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** The strict build's order, emulated: c = init; c = fround(c + fround(a·b)) for p = 0..k−1. */
function refStrict(p: Problem, init: Float32Array | null): Float32Array {
  const { m, n, k, a, b } = p;
  const f = Math.fround;
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = init ? init[i * n + j] : 0;
      for (let q = 0; q < k; q++) s = f(s + f(a[i * k + q] * b[q * n + j]));
      c[i * n + j] = s;
    }
  }
  return c;
}

const GUARD = 8; // sentinel floats after C: an edge tile must never write past C
const SENTINEL = 12345.5;

/** Runs one product on the core; init = null means accumulate = 0 with C prefilled with NaN. */
function run(s: Scratch, v: Variant, p: Problem, init: Float32Array | null, what: string): Float32Array {
  s.reset();
  const { a, b } = stored(v, p);
  const pa = s.put(a);
  const pb = s.put(b);
  const len = p.m * p.n;
  const pc = s.alloc(len + GUARD);
  const cv = s.f32(pc, len + GUARD);
  if (init) cv.set(init);
  else cv.fill(NaN, 0, len);
  cv.fill(SENTINEL, len);
  if (v === 'ntp') {
    // the panels, with a guard: packing must not write past ceil(n/32)·32·k floats
    const size = Math.ceil(p.n / 32) * 32 * p.k;
    const pp = s.alloc(size + GUARD);
    s.f32(pp, size + GUARD).fill(SENTINEL);
    s.ex.f32_pack_nt_panels(p.n, p.k, pb, pp);
    const guard = s.read(pp + size * 4, GUARD);
    if (guard.some((x) => x !== SENTINEL)) throw new Error(`${what}: packing wrote past the panels`);
    s.ex.f32_gemm_nt_panels(p.m, p.n, p.k, pa, pp, pc, init ? 1 : 0);
  } else {
    const fn = v === 'nn' ? s.ex.f32_gemm_nn : v === 'nt' ? s.ex.f32_gemm_nt : s.ex.f32_gemm_tn;
    fn(p.m, p.n, p.k, pa, pb, pc, init ? 1 : 0);
  }
  const out = s.read(pc, len + GUARD);
  for (let i = len; i < len + GUARD; i++) {
    if (out[i] !== SENTINEL) throw new Error(`${what}: wrote past the end of C (at +${i - len})`);
  }
  return out.subarray(0, len);
}

function problem(m: number, n: number, k: number, seed: number, ints = false): Problem {
  if (!ints) return { m, n, k, a: randomArray(m * k, seed), b: randomArray(k * n, seed + 1) };
  // Integers in [-3, 3]: |partial sums| ≤ 9k + 3, exact in f32 for k < 1.8e6.
  const r = mulberry32(seed);
  const int = (len: number) => Float32Array.from({ length: len }, () => Math.floor(r() * 7) - 3);
  return { m, n, k, a: int(m * k), b: int(k * n) };
}

function expectBitwise(actual: Float32Array, expected: Float32Array, what: string): void {
  const x = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const y = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (x.length !== y.length) throw new Error(`${what}: length ${x.length} != ${y.length}`);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      throw new Error(`${what}: bits differ at [${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

// Tile and block sizes in assembly/gemm.ts: NR = 8, MR = 5 (strict) / 6 (relaxed), KC = 256,
// NC = 80, A strips of 3·MR rows; the direct paths take m < MR (nn, tn) and m ≤ 4 (nt, in 32-column
// slabs over 64-step chunks of k, with nt16/nt4 for the column tail); row32 works on 32 columns.
// Panels: 32 columns each, k in blocks of 128 when m > 1. The shapes straddle each of these.
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 64, 97, 130, 257];
const SHAPES: [number, number, number][] = [];
for (let i = 0; i < SIZES.length; i++) {
  SHAPES.push([SIZES[i], SIZES[(i + 5) % 16], SIZES[(i + 11) % 16]]);
  SHAPES.push([SIZES[(i + 7) % 16], SIZES[i], SIZES[(i + 3) % 16]]);
  SHAPES.push([SIZES[(i + 13) % 16], SIZES[(i + 9) % 16], SIZES[i]]);
}
SHAPES.push(
  [300, 301, 290], // k over one KC block, m over one MC block, n not a multiple of 8
  [13, 1030, 300],
  [6, 33, 513], // k over two KC blocks
  [15, 80, 256], // one A strip (strict), n = NC, k = KC
  [16, 81, 257],
  [18, 160, 20], // one A strip (relaxed), n = 2·NC
  [19, 161, 21],
  [46, 79, 33],
  [1, 256, 784], // batch-1 inference shapes
  [1, 64, 256],
  [1, 784, 256],
  [2, 255, 63],
  [3, 64, 65],
  [4, 97, 129],
  [4, 45, 300],
  [64, 784, 256], // training forward
);

for (const build of BUILDS) {
  describe(`gemm (${build})`, () => {
    test('exact on integer data, every small shape around the tiles', async () => {
      const s = await scratchCore(build);
      let seed = 1;
      for (const m of [1, 2, 3, 4, 5, 6, 7, 11, 13]) {
        for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33]) {
          for (const k of [1, 2, 3, 4, 5, 7, 8, 9]) {
            const p = problem(m, n, k, seed++, true);
            const init = problem(m, 1, n, seed++, true).a; // m·n integers
            const want0 = Float32Array.from(refF64(p, null));
            const want1 = Float32Array.from(refF64(p, init));
            for (const v of VARIANTS) {
              const what = `${v} ${build} m=${m} n=${n} k=${k}`;
              expectBitwise(run(s, v, p, null, what), want0, `${what} accumulate=0`);
              expectBitwise(run(s, v, p, init, what), want1, `${what} accumulate=1`);
            }
          }
        }
      }
    });

    test('close to float64 (and bitwise to the emulated order in strict and debug) on random data', async () => {
      const s = await scratchCore(build);
      let seed = 1000;
      for (const [m, n, k] of SHAPES) {
        const p = problem(m, n, k, seed);
        const init = randomArray(m * n, seed + 2);
        seed += 3;
        const tol = { atol: 1e-5 * Math.sqrt(k), rtol: 1e-6 * Math.sqrt(k) };
        const ref0 = refF64(p, null);
        const ref1 = refF64(p, init);
        // the debug build is the strict code with asserts added: the same order, the same bits
        const seq0 = build !== 'relaxed' ? refStrict(p, null) : null;
        const seq1 = build !== 'relaxed' ? refStrict(p, init) : null;
        for (const v of VARIANTS) {
          const what = `${v} ${build} m=${m} n=${n} k=${k}`;
          const c0 = run(s, v, p, null, what);
          const c1 = run(s, v, p, init, what);
          expectAllClose(c0, ref0, { ...tol, what: `${what} accumulate=0` });
          expectAllClose(c1, ref1, { ...tol, what: `${what} accumulate=1` });
          if (seq0 && seq1) {
            expectBitwise(c0, seq0, `${what} accumulate=0 vs sequential f32 order`);
            expectBitwise(c1, seq1, `${what} accumulate=1 vs sequential f32 order`);
          }
        }
      }
    });

    test('k = 0, m = 0, n = 0', async () => {
      const s = await scratchCore(build);
      for (const v of VARIANTS) {
        for (const [m, n] of [[1, 1], [3, 5], [7, 17]]) {
          const p: Problem = { m, n, k: 0, a: new Float32Array(0), b: new Float32Array(0) };
          const init = randomArray(m * n, 7);
          const what = `${v} ${build} m=${m} n=${n} k=0`;
          expectBitwise(run(s, v, p, null, what), new Float32Array(m * n), `${what} accumulate=0`);
          expectBitwise(run(s, v, p, init, what), init, `${what} accumulate=1`);
        }
        for (const [m, n, k] of [[0, 5, 3], [4, 0, 3], [0, 0, 0]]) {
          const what = `${v} ${build} m=${m} n=${n} k=${k}`;
          // C has no elements: only the guard after it is checked.
          run(s, v, problem(m, n, k, 3), null, what);
          run(s, v, problem(m, n, k, 3), new Float32Array(0), what);
        }
      }
    });

    test("an element's bits do not depend on its row, m, the path, the variant or the call", async () => {
      const s = await scratchCore(build);
      for (const [m, n, k] of [[300, 37, 300], [64, 256, 784], [13, 70, 19]]) {
        const p = problem(m, n, k, 77);
        const init = randomArray(m * n, 78);
        for (const acc of [null, init]) {
          const tag = `${build} m=${m} n=${n} k=${k} accumulate=${acc ? 1 : 0}`;
          const full = run(s, 'nn', p, acc, `nn ${tag}`);
          for (const v of VARIANTS) {
            const what = `${v} ${tag}`;
            expectBitwise(run(s, v, p, acc, what), full, `${what} vs nn`);
            expectBitwise(run(s, v, p, acc, what), full, `${what} second call`);
            // Row blocks of every height the paths distinguish, at offsets inside tiles and blocks.
            for (const [i0, rows] of [[0, 1], [1, 1], [m - 1, 1], [3, 2], [2, 3], [m - 4, 4], [1, 5], [4, 6], [0, 7], [5, 12]]) {
              if (i0 < 0 || i0 + rows > m) continue;
              const sub: Problem = { m: rows, n, k, a: p.a.slice(i0 * k, (i0 + rows) * k), b: p.b };
              const subInit = acc ? acc.slice(i0 * n, (i0 + rows) * n) : null;
              expectBitwise(
                run(s, v, sub, subInit, what),
                full.slice(i0 * n, (i0 + rows) * n),
                `${what}: rows ${i0}..${i0 + rows - 1} computed alone`,
              );
            }
          }
        }
      }
    });
  });
}

// Dense inference on few rows multiplies by packed panels of W, kept across calls and remade
// after W changes: a row's output must equal its row of a large batch (the packed GEMM path) in
// every state of that cache.
describe('Dense: small-batch inference through W panels', () => {
  test('same bits as the batched path, before and after W changes', async () => {
    await init();
    const a = arena();
    const k = new Kernels(a);
    const rng = new Rng(a, 3);
    const [inSize, units, rows] = [70, 45, 40];
    const layer = new Dense(k, [inSize], { type: 'dense', units, activation: 'relu' }, 'l', true);
    layer.init(rng, 'glorotUniform');
    layer.reserve(rows);
    const x = a.alloc(rows * inSize);
    a.write(x, randomArray(rows * inSize, 5));
    const xs = a.alloc(32 * inSize);
    const check = (what: string) => {
      const full = a.read(layer.forward(x, rows)).slice();
      // several calls: the first small forward after a change uses gemm nt, later ones the panels
      for (let call = 0; call < 3; call++) {
        for (const [i0, m] of [[0, 1], [7, 1], [39, 1], [3, 2], [20, 16], [8, 32]]) {
          a.write(xs, a.read(x).subarray(i0 * inSize, (i0 + m) * inSize));
          const got = a.read(layer.forward(xs, m)).slice(0, m * units);
          expectBitwise(got, full.slice(i0 * units, (i0 + m) * units), `${what}: rows ${i0}..${i0 + m - 1}, call ${call}`);
        }
      }
    };
    check('after init');
    // a loader writes W through params()
    const [w] = layer.params();
    a.write(w.value, randomArray(units * inSize, 9));
    check('after a write through params()');
    // a training step: backward, then the optimizer updates W in place
    layer.forward(x, rows);
    const dy = a.alloc(rows * units);
    a.write(dy, randomArray(rows * units, 10));
    layer.backward(dy, rows);
    const wv = a.read(w.value);
    const g = a.read(w.grad);
    a.write(w.value, wv.map((v, i) => v - 0.1 * g[i]));
    check('after backward and an update');
    for (const t of [x, xs, dy]) a.release(t);
    layer.dispose();
    rng.dispose();
  });
});
