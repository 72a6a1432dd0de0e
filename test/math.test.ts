// Accuracy of the core's own transcendentals (assembly/math.ts) against float64 references.
// The host's Math is the reference here only; the library never calls it. Measured ULP bounds
// (the figures quoted in math.ts) are asserted per function and build; special values exactly.
import { describe, expect, test } from 'vitest';
import { BUILDS, scratchCore, type Scratch } from './helpers/core.js';
import { mulberry32 } from './helpers/reference.js';
import { ulpError } from './helpers/gradcheck.js';
import { ACTIVATIONS } from '../src/runtime/abi.js';

const { elu: ACT_ELU, sigmoid: ACT_SIGMOID, tanh: ACT_TANH, softplus: ACT_SOFTPLUS } = ACTIVATIONS;

const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 2 ** -126;
const DENORM_MIN = 2 ** -149;

function linspace(lo: number, hi: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(lo + ((hi - lo) * i) / (n - 1));
  return out;
}
/** |x| log-uniform in [2^lo, 2^hi], both signs if `signed`. */
function logspace(lo: number, hi: number, n: number, signed: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = 2 ** (lo + ((hi - lo) * i) / (n - 1));
    out.push(v);
    if (signed) out.push(-v);
  }
  return out;
}
/** Uniformly random f32 bit patterns with the given sign, excluding NaN/Inf. */
function randomBits(n: number, seed: number, negative: boolean): number[] {
  const r = mulberry32(seed);
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  const out: number[] = [];
  while (out.length < n) {
    u[0] = Math.floor(r() * 0x7f800000) | (negative ? 0x80000000 : 0);
    out.push(f[0]);
  }
  return out;
}

type Kernel = (s: Scratch, x: Float32Array) => Float32Array;
const viaExp: Kernel = (s, x) => {
  s.reset();
  const px = s.put(x);
  const py = s.alloc(x.length);
  s.ex.f32_exp(x.length, px, py);
  return s.read(py, x.length);
};
const viaLog: Kernel = (s, x) => {
  s.reset();
  const px = s.put(x);
  const py = s.alloc(x.length);
  s.ex.f32_log(x.length, px, py);
  return s.read(py, x.length);
};
const viaAct = (act: number, alpha = 0): Kernel => (s, x) => {
  s.reset();
  const px = s.put(x);
  const py = s.alloc(x.length);
  s.ex.f32_act_forward(act, alpha, px, py, x.length);
  return s.read(py, x.length);
};

function sigmoid64(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
function softplus64(x: number): number {
  return x > 20 ? x : Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

interface Case {
  name: string;
  kernel: Kernel;
  ref: (x: number) => number;
  inputs: () => number[];
  maxUlp: number;
}

// The sweeps: dense grids over each function's interesting range, log-spaced magnitudes down to
// subnormals, random bit patterns, and the special values.
const specials = [0, -0, Infinity, -Infinity, NaN, 1, -1, DENORM_MIN, -DENORM_MIN, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX];
const cases: Case[] = [
  {
    name: 'exp',
    kernel: viaExp,
    ref: Math.exp,
    inputs: () => [
      ...specials, ...linspace(-104, 89, 200_003), ...logspace(-149, 6.5, 20_000, true),
      88.7, -88.7, 88.72283, 88.72284, -87.33654, -103, -103.27893, -103.97207, -103.97208, -104, -150, 1e-30, -1e-30,
    ],
    maxUlp: 1,
  },
  {
    name: 'log',
    kernel: viaLog,
    ref: Math.log,
    inputs: () => [
      ...specials, ...logspace(-149, 128, 200_003, false), ...randomBits(100_000, 7, false),
      ...linspace(0.5, 2, 100_001), ...linspace(1 - 2 ** -10, 1 + 2 ** -10, 4097), 1e-45, 3e-39, 1e38, 3.4e38,
    ],
    maxUlp: 1,
  },
  {
    name: 'tanh',
    kernel: viaAct(ACT_TANH),
    ref: Math.tanh,
    inputs: () => [...specials, ...linspace(-12, 12, 200_001), ...logspace(-149, 7, 40_000, true), 300, -300, 400, -400],
    maxUlp: 2,
  },
  {
    name: 'sigmoid',
    kernel: viaAct(ACT_SIGMOID),
    ref: sigmoid64,
    inputs: () => [...specials, ...linspace(-110, 110, 200_001), ...logspace(-149, 7, 40_000, true), 300, -300, 400, -400],
    maxUlp: 2.5, // measured 2.00
  },
  {
    name: 'expm1 (as ELU, alpha 1, x ≤ 0)',
    kernel: viaAct(ACT_ELU, 1),
    ref: (x) => (x > 0 ? x : Math.expm1(x)),
    inputs: () => [0, -0, -Infinity, NaN, -DENORM_MIN, -FLT_MIN, ...linspace(-20, 0, 200_001), ...logspace(-149, 4.4, 40_000, false).map((v) => -v)],
    maxUlp: 1,
  },
  {
    name: 'softplus (log1p of exp)',
    kernel: viaAct(ACT_SOFTPLUS),
    ref: softplus64,
    inputs: () => [...specials, ...linspace(-100, 30, 200_001), ...logspace(-149, 7, 40_000, true), 300, -300, 400, -400],
    maxUlp: 2,
  },
];

for (const build of BUILDS) {
  describe(`math accuracy (${build} build)`, () => {
    for (const c of cases) {
      test(`${c.name}: ≤ ${c.maxUlp} ULP vs float64 over dense sweeps and special values`, async () => {
        const s = await scratchCore(build);
        const x = new Float32Array(c.inputs());
        const y = c.kernel(s, x);
        let worst = 0;
        let at = 0;
        for (let i = 0; i < x.length; i++) {
          const e = ulpError(y[i], c.ref(x[i]));
          if (!(e <= worst)) {
            worst = e;
            at = i;
          }
        }
        console.log(`${build} ${c.name}: max ${worst.toFixed(3)} ULP at x = ${x[at]} (${x.length} points)`);
        expect(worst, `${c.name}: worst at x = ${x[at]}: got ${y[at]}, expected ${c.ref(x[at])}`).toBeLessThanOrEqual(
          c.maxUlp,
        );
      });
    }
  });
}

describe('math special values and bits', () => {
  const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b, i) => (Number.isNaN(a[i]) ? 'NaN' : b));
  /** k on xs in every build; the builds must agree bit for bit (math.ts uses no FMA). */
  const run = async (k: Kernel, xs: number[]) => {
    const [first, ...rest] = await Promise.all(BUILDS.map(async (b) => k(await scratchCore(b), new Float32Array(xs))));
    for (const [i, y] of rest.entries()) expect(bitsOf(y), `${BUILDS[i + 1]} vs ${BUILDS[0]}`).toEqual(bitsOf(first));
    return first;
  };

  test('exp: exact special values', async () => {
    const y = await run(viaExp, [0, -0, Infinity, -Infinity, NaN, 1, 88.72283, 88.72284, -103.97207, -103.9721, -104, -1e30, 1e30]);
    expect(y[0]).toBe(1);
    expect(y[1]).toBe(1);
    expect(y[2]).toBe(Infinity);
    expect(Object.is(y[3], 0)).toBe(true);
    expect(y[4]).toBeNaN();
    expect(ulpError(y[5], Math.E)).toBeLessThanOrEqual(1);
    expect(ulpError(y[6], Math.exp(Math.fround(88.72283)))).toBeLessThanOrEqual(1); // just below FLT_MAX
    expect(y[7]).toBe(Infinity);
    expect(y[8]).toBe(DENORM_MIN); // e^x just above 2^−150 rounds up to the smallest subnormal
    expect(y[9]).toBe(0);
    expect(y[10]).toBe(0);
    expect(y[11]).toBe(0);
    expect(y[12]).toBe(Infinity);
  });

  test('log: exact special values', async () => {
    const y = await run(viaLog, [0, -0, -1, -Infinity, Infinity, NaN, 1, 2, DENORM_MIN, FLT_MAX]);
    expect(y[0]).toBe(-Infinity);
    expect(y[1]).toBe(-Infinity);
    expect(y[2]).toBeNaN();
    expect(y[3]).toBeNaN();
    expect(y[4]).toBe(Infinity);
    expect(y[5]).toBeNaN();
    expect(Object.is(y[6], 0)).toBe(true);
    expect(ulpError(y[7], Math.LN2)).toBeLessThanOrEqual(1);
    expect(ulpError(y[8], Math.log(DENORM_MIN))).toBeLessThanOrEqual(1);
    expect(ulpError(y[9], Math.log(FLT_MAX))).toBeLessThanOrEqual(1);
  });

  test('tanh and sigmoid: exact limits, signed zeros, no NaN for huge inputs', async () => {
    const xs = [0, -0, Infinity, -Infinity, 9.02, -9.02, 400, -400, 1e-40, -1e-40];
    const t = await run(viaAct(ACT_TANH), xs);
    expect(Array.from(t)).toEqual([0, -0, 1, -1, 1, -1, 1, -1, Math.fround(1e-40), Math.fround(-1e-40)]);
    expect(Object.is(t[1], -0)).toBe(true);
    const s = await run(viaAct(ACT_SIGMOID), xs);
    expect(Array.from(s.subarray(0, 4))).toEqual([0.5, 0.5, 1, 0]);
    expect(Array.from(s.subarray(6, 10))).toEqual([1, 0, 0.5, 0.5]);
    expect(ulpError(s[4], sigmoid64(Math.fround(9.02)))).toBeLessThanOrEqual(2.5);
    expect(ulpError(s[5], sigmoid64(Math.fround(-9.02)))).toBeLessThanOrEqual(2.5);
  });

  // The same inputs through every position: each value once in a SIMD body (n % 4 == 0) and once
  // alone (n = 1: the scalar tail), and through every build (math.ts uses no FMA, so the relaxed
  // and debug builds must give the strict build's bits too).
  const positionInputs = () => {
    const r = mulberry32(11);
    const xs = [0, -0, 1, -1, 88.72, -88.72, -103.9, -104, 1e-45, 1e-30, 3e38, 0.5493, 9.01, 20, 400, -400];
    while (xs.length < 200) xs.push((r() - 0.5) * 2 ** (r() * 16 - 4));
    return new Float32Array(xs);
  };
  const kernels: [string, Kernel][] = [
    ['exp', viaExp],
    ['log', viaLog],
    ['tanh', viaAct(ACT_TANH)],
    ['sigmoid', viaAct(ACT_SIGMOID)],
    ['expm1 (elu)', viaAct(ACT_ELU, 1)],
    ['softplus', viaAct(ACT_SOFTPLUS)],
  ];
  for (const [name, k] of kernels) {
    test(`${name}: same bits in the SIMD body, the scalar tail and every build`, async () => {
      const x = positionInputs();
      const xl = Float32Array.from(x, Math.abs); // log: positive inputs
      const input = name === 'log' ? xl : x;
      const strict = await scratchCore('strict');
      const body = bitsOf(k(strict, input));
      const tail = Array.from(input, (v) => bitsOf(k(strict, new Float32Array([v])))[0]);
      expect(tail, `${name}: tail vs body`).toEqual(body);
      for (const build of BUILDS) expect(bitsOf(k(await scratchCore(build), input)), `${name}: ${build} vs strict`).toEqual(body);
    });
  }
});
