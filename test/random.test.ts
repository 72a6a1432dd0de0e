// assembly/random.ts: Philox4x32-10 known answers, the documented state layout and stream
// mapping (against a plain JS Philox), determinism, pinned golden values, statistics, and the
// consumption guarantees. Statistical bounds are set so that a correct generator fails each
// with probability around 1e-6 or less (and the seeds are fixed, so the run is reproducible).
import { beforeAll, describe, expect, test } from 'vitest';
import { scratchCore, type Scratch } from './helpers/core.js';
import { detectFeatures } from '../src/runtime/load.js';
import type { CoreExports } from '../src/runtime/abi.js';

let s: Scratch;
let ex: CoreExports;

// ---- A plain JS Philox4x32-10 (BigInt products), for the layout checks ----------------------
function mulhilo(a: number, b: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
}
function philoxJs(ctr: number[], key: number[]): number[] {
  let [c0, c1, c2, c3] = ctr.map((x) => x >>> 0);
  let [k0, k1] = key.map((x) => x >>> 0);
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}
/** Word i of a call's stream, per random.ts: word i mod 4 of block (c0c1 + ⌊i/4⌋, c2c3). */
function streamWords(state: Uint32Array, count: number): number[] {
  const out: number[] = [];
  const base = BigInt(state[0 + 2]) | (BigInt(state[3]) << 32n);
  for (let b = 0; out.length < count; b++) {
    const lo = (base + BigInt(b)) & 0xffffffffffffffffn;
    out.push(...philoxJs([Number(lo & 0xffffffffn), Number(lo >> 32n), state[4], state[5]], [state[0], state[1]]));
  }
  return out.slice(0, count);
}

// ---- Helpers over the core ------------------------------------------------------------------
const STATE_WORDS = 8;
function newState(c: Scratch, seedLo: number, seedHi = 0): number {
  const st = c.alloc(STATE_WORDS);
  c.ex.rng_seed(st, seedLo, seedHi);
  return st;
}
const stateOf = (st: number) => s.u32(st, STATE_WORDS).slice();
function uniform(st: number, n: number, lo = 0, hi = 1, c: Scratch = s): Float32Array {
  const out = c.alloc(n);
  c.ex.f32_rand_uniform(st, out, n, lo, hi);
  return c.read(out, n);
}
function normal(st: number, n: number, mean = 0, std = 1, c: Scratch = s): Float32Array {
  const out = c.alloc(n);
  c.ex.f32_rand_normal(st, out, n, mean, std);
  return c.read(out, n);
}
function bernoulli(st: number, n: number, p: number): Float32Array {
  const out = s.alloc(n);
  ex.f32_rand_bernoulli(st, out, n, p);
  return s.read(out, n);
}
function permutation(st: number, n: number, c: Scratch = s): Int32Array {
  const out = c.alloc(n);
  c.ex.rand_permutation(st, out, n);
  return c.i32(out, n).slice();
}
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');

function meanVar(x: ArrayLike<number>): { mean: number; variance: number; skew: number; exKurt: number } {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n; m3 /= n; m4 /= n;
  return { mean: m, variance: m2, skew: m3 / m2 ** 1.5, exKurt: m4 / (m2 * m2) - 3 };
}

/** Φ(x) via erfc (W. J. Cody's rational approximations are overkill here: Numerical Recipes'
 *  erfc Chebyshev fit, |relative error| < 1.2e-7, is far below the KS bound). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r / 2 : r / 2;
}

// ---- Tests ----------------------------------------------------------------------------------
// Every suite below runs on the strict build and on the debug build (asserts on, the same bits);
// the relaxed build is checked against the strict one's bits at the end.
describe.each(['strict', 'debug'] as const)('%s build', (build) => {
  beforeAll(async () => {
    s = await scratchCore(build);
    ex = s.ex;
  });

  describe('Philox4x32-10 and the state layout', () => {
    test('rng_seed: key = splitmix64(seed), counter and spare zero', () => {
      s.reset();
      // splitmix64's first output from state 0 is 0xe220a8397b1dcdaf (Vigna's splitmix64.c).
      expect(Array.from(stateOf(newState(s, 0, 0))).map(hex)).toEqual(
        ['7b1dcdaf', 'e220a839', '00000000', '00000000', '00000000', '00000000', '00000000', '00000000']);
      // Seeds that differ in one bit, low or high word, give unrelated keys.
      const k1 = stateOf(newState(s, 1, 0)), k2 = stateOf(newState(s, 0, 1)), k3 = stateOf(newState(s, 2, 0));
      for (const [a, b] of [[k1, k2], [k1, k3], [k2, k3]]) {
        const diff = [a[0] ^ b[0], a[1] ^ b[1]].reduce((c, w) => c + popcount(w), 0);
        expect(diff).toBeGreaterThan(16);
        expect(diff).toBeLessThan(48);
      }
    });

    // Random123 tests/kat_vectors, "philox4x32 10" lines: counter, key → output. f32_rand_uniform
    // in [0, 1) returns exactly (word >>> 8)·2⁻²⁴, so the top 24 bits of each word are checked.
    const KAT: [number[], number[], number[]][] = [
      [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
      [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
      [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
    ];
    test('known answers (Random123 kat_vectors), through the kernel and the JS reference', () => {
      for (const [ctr, key, want] of KAT) {
        expect(philoxJs(ctr, key).map(hex)).toEqual(want.map(hex));
        s.reset();
        const st = s.alloc(STATE_WORDS);
        s.u32(st, STATE_WORDS).set([...key, ...ctr, 0, 0]);
        // 16 values: the KAT block, then three more blocks computed in the other SIMD lanes
        // (block index + 1, + 2, + 3, carrying into c1 and wrapping at 2⁶⁴ for the all-ones case).
        const before = stateOf(st);
        const u = uniform(st, 16);
        expect(Array.from(u.subarray(0, 4), (x) => hex(x * 2 ** 24))).toEqual(want.map((w) => hex(w >>> 8)));
        expect(Array.from(u, (x) => hex(x * 2 ** 24))).toEqual(streamWords(before, 16).map((w) => hex(w >>> 8)));
        // The call index (c2, c3) advanced by one, with carry; the block base (c0, c1) did not.
        const call = ((BigInt(ctr[2]) | (BigInt(ctr[3]) << 32n)) + 1n) & 0xffffffffffffffffn;
        expect(Array.from(stateOf(st))).toEqual([...key, ctr[0], ctr[1], Number(call & 0xffffffffn), Number(call >> 32n), 0, 0]);
      }
    });

    test('block index carries from c0 into c1 inside a group of four blocks', () => {
      s.reset();
      const st = s.alloc(STATE_WORDS);
      s.u32(st, STATE_WORDS).set([0x01234567, 0x89abcdef, 0xfffffffe, 0x00000007, 5, 0, 0, 0]);
      const before = stateOf(st);
      const u = uniform(st, 32);
      expect(Array.from(u, (x) => hex(x * 2 ** 24))).toEqual(streamWords(before, 32).map((w) => hex(w >>> 8)));
    });

    test('uniform, bernoulli and permutation follow the documented word mapping exactly', () => {
      s.reset();
      const st = newState(s, 0xdeadbeef, 0x12345678);
      uniform(st, 3); // move to call index 1
      const before = stateOf(st);
      const words = streamWords(before, 4 * 40);
      const u = uniform(st, 37, -1, 3);
      const ref = words.slice(0, 37).map((w) => Math.fround(Math.fround(Math.fround((w >>> 8) * 2 ** -24) * 4) + -1));
      expect(bits(u)).toEqual(bits(Float32Array.from(ref)));

      s.u32(st, STATE_WORDS).set(before);
      const p = 0.3;
      const t = Math.ceil(p * 2 ** 32);
      expect(Array.from(bernoulli(st, 37, p))).toEqual(words.slice(0, 37).map((w) => (w < t ? 1 : 0)));

      // Permutation: Durstenfeld with Lemire's bounded integers over the same word stream.
      s.u32(st, STATE_WORDS).set(before);
      const n = 100;
      const want = Array.from({ length: n }, (_, i) => i);
      let w = 0;
      for (let i = n - 1; i > 0; i--) {
        const sz = BigInt(i + 1);
        let m = BigInt(words[w++]) * sz;
        if ((m & 0xffffffffn) < sz) {
          const thr = (2n ** 32n - sz) % sz;
          while ((m & 0xffffffffn) < thr) m = BigInt(words[w++]) * sz;
        }
        const j = Number(m >> 32n);
        [want[i], want[j]] = [want[j], want[i]];
      }
      expect(Array.from(permutation(st, n))).toEqual(want);
    });
  });

  describe('determinism and golden values', () => {
    function sequence(c: Scratch, seedLo: number, seedHi = 0): number[][] {
      c.reset();
      const st = newState(c, seedLo, seedHi);
      return [
        bits(uniform(st, 9, -2, 5, c)),
        bits(normal(st, 11, 0.5, 2, c)),
        Array.from(permutation(st, 13, c)),
        bits(uniform(st, 1003, 0, 1, c)),
      ];
    }

    test('same seed, same bits; other seeds, other values; seed 0 is fine', () => {
      expect(sequence(s, 42)).toEqual(sequence(s, 42));
      const a = sequence(s, 42);
      for (const other of [sequence(s, 43), sequence(s, 42, 1), sequence(s, 0), sequence(s, 0xffffffff, 0xffffffff)]) {
        for (let k = 0; k < a.length; k++) {
          if (k === 2) continue; // 13! permutations: a match is possible, if unlikely
          const same = a[k].filter((x, i) => x === other[k][i]).length;
          expect(same).toBeLessThan(3);
        }
      }
      // Seed 0 is an ordinary seed: mean of 1003 uniforms near 1/2.
      const u0 = new Float32Array(new Uint32Array(sequence(s, 0)[3]).buffer);
      const m = u0.reduce((x, y) => x + y, 0) / u0.length;
      expect(Math.abs(m - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / 1003));
    });

    test('pinned: the first uniforms in [0, 1) for seed 42', () => {
      s.reset();
      const st = newState(s, 42);
      // Key for seed 42 = splitmix64(42), checked against the JS reference below.
      expect(Array.from(stateOf(st).slice(0, 2)).map(hex)).toEqual(GOLDEN_KEY_42);
      const u = uniform(st, 8);
      expect(bits(u).map(hex)).toEqual(GOLDEN_UNIFORM_42);
      // The same values from the JS Philox over the documented mapping.
      const words = streamWords(Uint32Array.from([...stateOf(st).slice(0, 2), 0, 0, 0, 0, 0, 0]), 8);
      expect(bits(Float32Array.from(words, (w) => (w >>> 8) * 2 ** -24)).map(hex)).toEqual(GOLDEN_UNIFORM_42);
      // And the first normals and permutation that follow (calls 1 and 2).
      expect(bits(normal(st, 4)).map(hex)).toEqual(GOLDEN_NORMAL_42);
      expect(Array.from(permutation(st, 10))).toEqual(GOLDEN_PERM_42);
    });
  });

  describe('distributions', () => {
    const N = 100_000;

    test('uniform: in [lo, hi), mean and variance', () => {
      s.reset();
      const st = newState(s, 7);
      const lo = -2, hi = 3;
      const u = uniform(st, N, lo, hi);
      for (let i = 0; i < N; i++) if (!(u[i] >= lo && u[i] < hi)) throw new Error(`uniform[${i}] = ${u[i]} outside [${lo}, ${hi})`);
      const { mean, variance } = meanVar(u);
      const w = hi - lo;
      expect(Math.abs(mean - (lo + hi) / 2)).toBeLessThan(5.5 * Math.sqrt(w * w / 12 / N));
      const varSe = Math.sqrt((w ** 4 / 80 - (w * w / 12) ** 2) / N);
      expect(Math.abs(variance - w * w / 12)).toBeLessThan(5.5 * varSe);
    });

    test('uniform never returns hi, even where rounding would', () => {
      s.reset();
      const st = newState(s, 8);
      // [1, 1 + 2⁻²³): u·2⁻²³ + 1 rounds to 1 + 2⁻²³ for about half of all u.
      expect(new Set(uniform(st, 1000, 1, 1 + 2 ** -23))).toEqual(new Set([1]));
      // [0, smallest subnormal): same story at the bottom of the range.
      expect(new Set(uniform(st, 1000, 0, 2 ** -149))).toEqual(new Set([0]));
      // [−2, −1): negative hi.
      const u = uniform(st, 1000, -2, -1);
      expect(u.every((x) => x >= -2 && x < -1)).toBe(true);
    });

    test('normal: mean, variance, skewness, kurtosis and a Kolmogorov–Smirnov test', () => {
      s.reset();
      const st = newState(s, 9);
      const z = normal(st, N);
      expect(z.every((x) => Number.isFinite(x) && Math.abs(x) < 6.7)).toBe(true);
      const { mean, variance, skew, exKurt } = meanVar(z);
      expect(Math.abs(mean)).toBeLessThan(5.5 / Math.sqrt(N));
      expect(Math.abs(variance - 1)).toBeLessThan(5.5 * Math.sqrt(2 / N));
      expect(Math.abs(skew)).toBeLessThan(5.5 * Math.sqrt(6 / N));
      expect(Math.abs(exKurt)).toBeLessThan(5.5 * Math.sqrt(24 / N));
      // KS: P(√N·D > x) ≈ 2·exp(−2x²); x = 2.7 gives ≈ 1e-6.
      const sorted = Float64Array.from(z).sort();
      let d = 0;
      for (let i = 0; i < N; i++) {
        const c = normalCdf(sorted[i]);
        d = Math.max(d, (i + 1) / N - c, c - i / N);
      }
      expect(d).toBeLessThan(2.7 / Math.sqrt(N));
      // mean + std·z is applied in f64 before the one rounding: the same draws, shifted and scaled.
      s.u32(st, STATE_WORDS).set([...stateOf(st).slice(0, 4), 0, 0, 0, 0]);
      const z1 = normal(st, 1001);
      s.u32(st, STATE_WORDS).set([...stateOf(st).slice(0, 4), 0, 0, 0, 0]);
      const y = normal(st, 1001, 3, 0.5);
      for (let i = 0; i < z1.length; i++) expect(Math.abs(y[i] - (3 + 0.5 * z1[i]))).toBeLessThan(1e-6);
    });

    test('bernoulli: only 0 and 1, rate p, and the edges p = 0 and p = 1', () => {
      s.reset();
      const st = newState(s, 10);
      for (const p of [0.3, 0.5, 0.01]) {
        const b = bernoulli(st, N, p);
        let ones = 0;
        for (let i = 0; i < N; i++) {
          if (b[i] !== 0 && b[i] !== 1) throw new Error(`bernoulli[${i}] = ${b[i]}`);
          ones += b[i];
        }
        expect(Math.abs(ones / N - p), `rate for p = ${p}`).toBeLessThan(5.5 * Math.sqrt((p * (1 - p)) / N));
      }
      expect(bernoulli(st, 1003, 0).every((x) => x === 0)).toBe(true);
      expect(bernoulli(st, 1003, 1).every((x) => x === 1)).toBe(true);
      expect(bernoulli(st, 5, -0.5).every((x) => x === 0)).toBe(true);
      expect(bernoulli(st, 5, 2).every((x) => x === 1)).toBe(true);
    });

    test('permutation: each index once, for many sizes', () => {
      s.reset();
      const st = newState(s, 11);
      for (const n of [0, 1, 2, 3, 4, 5, 17, 1000, 65537]) {
        const p = permutation(st, n);
        const seen = new Uint8Array(n);
        for (const v of p) {
          if (!(v >= 0 && v < n) || seen[v]) throw new Error(`permutation n=${n}: bad or repeated ${v}`);
          seen[v] = 1;
        }
      }
    });

    test('permutation: uniform over the 24 orders of n = 4 (chi-square) and the 6 of n = 3', () => {
      s.reset();
      const st = newState(s, 12);
      for (const [n, draws, bound] of [[4, 24_000, 71], [3, 12_000, 40]]) {
        // bound: chi-square quantile at 1 − 1e-6 (Wilson–Hilferty): df 23 → 71, df 5 → 40.
        const counts = new Map<string, number>();
        const out = s.alloc(n);
        for (let k = 0; k < draws; k++) {
          ex.rand_permutation(st, out, n);
          const key = s.i32(out, n).join('');
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        let cells = 1;
        for (let i = 2; i <= n; i++) cells *= i;
        expect(counts.size).toBe(cells);
        const e = draws / cells;
        let chi2 = 0;
        for (const c of counts.values()) chi2 += (c - e) ** 2 / e;
        expect(chi2, `n = ${n}`).toBeLessThan(bound);
      }
    });
  });

  describe('consumption: one call, one call index', () => {
    test('each call advances c2c3 by exactly 1 (n = 0 too) and leaves key and c0c1 alone', () => {
      s.reset();
      const st = newState(s, 5);
      const calls: Array<() => void> = [
        () => uniform(st, 0), () => uniform(st, 1003), () => normal(st, 7), () => bernoulli(st, 5, 0.5),
        () => bernoulli(st, 9, 1), () => permutation(st, 300), () => permutation(st, 0),
      ];
      const key = stateOf(st).slice(0, 2);
      calls.forEach((call, k) => {
        call();
        expect(Array.from(stateOf(st))).toEqual([...key, 0, 0, k + 1, 0, 0, 0]);
      });
    });

    test('values depend on the number of earlier calls, not on their sizes or kinds', () => {
      const after = (first: (st: number) => void) => {
        s.reset();
        const st = newState(s, 6);
        first(st);
        return [bits(normal(st, 10)), bits(uniform(st, 10))];
      };
      const a = after((st) => uniform(st, 3));
      expect(after((st) => uniform(st, 1000))).toEqual(a);
      expect(after((st) => permutation(st, 500))).toEqual(a);
      expect(after((st) => bernoulli(st, 17, 0.2))).toEqual(a);
      expect(after(() => undefined)).not.toEqual(a);
    });

    test('prefix property: a call of n gives the first n values of a call of m > n', () => {
      s.reset();
      const st = newState(s, 13);
      const saved = stateOf(st);
      const restore = () => s.u32(st, STATE_WORDS).set(saved);
      for (const [n, m] of [[1, 2], [3, 4], [5, 13], [7, 1003]]) {
        restore();
        const u = bits(uniform(st, n, -1, 1));
        restore();
        expect(u).toEqual(bits(uniform(st, m, -1, 1)).slice(0, n));
        restore();
        const z = bits(normal(st, n));
        restore();
        expect(z).toEqual(bits(normal(st, m)).slice(0, n));
        restore();
        const b = Array.from(bernoulli(st, n, 0.4));
        restore();
        expect(b).toEqual(Array.from(bernoulli(st, m, 0.4)).slice(0, n));
      }
    });

    test('two calls of n are not one call of 2n', () => {
      s.reset();
      const st = newState(s, 14);
      const saved = stateOf(st);
      const a = [...bits(uniform(st, 8)), ...bits(uniform(st, 8))];
      s.u32(st, STATE_WORDS).set(saved);
      const b = bits(uniform(st, 16));
      expect(a.slice(0, 8)).toEqual(b.slice(0, 8)); // the prefix property
      expect(a.slice(8)).not.toEqual(b.slice(8)); // the second call starts a new stream
    });
  });
});


describe.runIf(detectFeatures().relaxedSimd)('random, relaxed build', () => {
  test('gives the same bits as the strict build', async () => {
    const results: number[][] = [];
    for (const mode of ['strict', 'relaxed'] as const) {
      const c = await scratchCore(mode);
      c.reset();
      const st = newState(c, 99);
      results.push([...bits(uniform(st, 101, -3, 2, c)), ...bits(normal(st, 101, 1, 3, c)), ...permutation(st, 50, c)]);
    }
    expect(results[1]).toEqual(results[0]);
  });
});

function popcount(x: number): number {
  x >>>= 0;
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

// Pinned golden values (f32 bits as hex, permutation as indices), recorded from this kernel
// and cross-checked: the key against splitmix64 and the uniforms against the JS Philox above.
const GOLDEN_KEY_42 = ['2feb6e95', 'bdd73226']; // splitmix64(42) = 0xbdd732262feb6e95
// 0.63219666, 0.26182091, 0.19441986, 0.54147500, 0.21417838, 0.10992956, 0.24843484, 0.11744893
const GOLDEN_UNIFORM_42 = ['3f21d7a4', '3e860d64', '3e471600', '3f0a9e1b', '3e5b5194', '3de122c0', '3e7e65b4', '3df08910'];
// −2.3860753, 1.6116962, 1.2818284, −0.056418590
const GOLDEN_NORMAL_42 = ['c018b575', '3fce4c10', '3fa412f4', 'bd67172e'];
const GOLDEN_PERM_42 = [0, 7, 8, 3, 6, 5, 1, 4, 2, 9];
