// Probes behind the recommendations in the profile (bench/PROFILE.md). Each compiles a small
// AssemblyScript module from a COPY of the library's sources plus probe exports into a temp dir,
// and times it beside the library's own exports on the same data. Nothing here is shipped.
//   node bench/probes/run.mjs            (strict; it re-runs itself with the relaxed flag)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../../dist/index.js';
import { ROOT, internals } from '../lib/common.mjs';

const relaxed = process.argv.includes('--relaxed-child');
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
function time(fn, reps = 200) {
  for (let i = 0; i < 30; i++) fn();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return { med: median(t), min: Math.min(...t) };
}

// ---- build the probe modules ----
const dir = relaxed ? process.argv[process.argv.indexOf('--relaxed-child') + 1] : mkdtempSync(join(tmpdir(), 'latent-probe-'));
const asc = join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
if (!relaxed) {
  for (const f of ['gemm.ts', 'simd.ts', 'math.ts']) copyFileSync(join(ROOT, 'assembly', f), join(dir, f));
  // kept as .as so the project's tsc (which includes bench/) does not type-check AssemblyScript
  copyFileSync(join(ROOT, 'bench', 'probes', 'kernels-probe.as'), join(dir, 'kernels.ts'));
  // gemm.ts + exports that run its micro-kernel alone on the static packed panels
  writeFileSync(join(dir, 'gemm.ts'), readFileSync(join(dir, 'gemm.ts'), 'utf8') + `
const PROBE_C: usize = memory.data(8 * 80 * 4, 64);
/** row(): one MR-row strip × NC × KC; the A panel in L1, the 80 KiB B block in L2. */
export function probe_row(reps: i32): void {
  for (let r = 0; r < reps; r++) row(A_PACK, MR, NC, KC, PROBE_C, <usize>NC << 2, false);
}
/** kernel(): one MR×8 tile over KC, all in L1: the compute ceiling of the micro-kernel. */
export function probe_tile(reps: i32): void {
  for (let r = 0; r < reps; r++) kernel(KC, A_PACK, B_PACK, PROBE_C, <usize>NC << 2, false);
}
export function probe_mr(): i32 { return MR; }
`);
  const flags = ['-O3', '--runtime', 'stub', '--noAssert', '--converge', '--initialMemory', '128'];
  for (const [name, extra] of [['strict', []], ['relaxed', ['--enable', 'relaxed-simd']]]) {
    execFileSync(process.execPath, [asc, join(dir, 'gemm.ts'), '--enable', 'simd', ...extra, ...flags, '-o', join(dir, `gemm-${name}.wasm`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  execFileSync(process.execPath, [asc, join(dir, 'kernels.ts'), '--enable', 'simd', ...flags, '-o', join(dir, 'kernels.wasm')], { stdio: ['ignore', 'ignore', 'pipe'] });
}
const load = async (f) => (await WebAssembly.instantiate(readFileSync(join(dir, f)), { env: { abort() {} } })).instance.exports;
await init(relaxed ? { simd: 'relaxed' } : {});
const { A, K, internal } = await internals();
const build = relaxed ? 'relaxed' : 'strict';

// ---- 1. the GEMM micro-kernel alone vs the library's GEMM ----
{
  const G = await load(`gemm-${build}.wasm`);
  const MR = G.probe_mr();
  const tile = time(() => G.probe_tile(200));
  const row = time(() => G.probe_row(20));
  const fTile = 2 * MR * 8 * 256 * 200;
  const fRow = 2 * MR * 80 * 256 * 20;
  console.log(`[${build}] GEMM micro-kernel ${MR}×8, KC 256: in L1 ${(fTile / tile.med / 1e6).toFixed(1)} GFLOP/s (best ${(fTile / tile.min / 1e6).toFixed(1)}); ` +
    `row over the L2 B block ${(fRow / row.med / 1e6).toFixed(1)} (best ${(fRow / row.min / 1e6).toFixed(1)})`);
  for (const [m, n, k] of [[64, 784, 256], [256, 256, 256], [1024, 1024, 1024]]) {
    const a = A.alloc(m * k), b = A.alloc(k * n), c = A.alloc(m * n);
    A.write(a, Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)));
    A.write(b, Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)));
    const cells = ['nn', 'nt', 'tn'].map((v) => {
      const t = time(() => K.gemm(v, m, n, k, a, b, c), m === 1024 ? 15 : 200);
      return `${v} ${((2 * m * n * k) / t.med / 1e6).toFixed(1)} (best ${((2 * m * n * k) / t.min / 1e6).toFixed(1)})`;
    });
    console.log(`[${build}]   library GEMM ${m}×${n}×${k}: ${cells.join(', ')} GFLOP/s`);
    [a, b, c].forEach((t) => A.release(t));
  }
}

if (!relaxed) {
  // ---- 2. batch-1 forward: gemm nt at m = 1 vs gemm nn at m = 1 on a cached Wᵀ ----
  for (const [out, inn] of [[256, 784], [784, 256]]) {
    const x = A.alloc(inn), w = A.alloc(out * inn), wt = A.alloc(out * inn), y = A.alloc(out), y2 = A.alloc(out);
    const W = Float32Array.from({ length: out * inn }, (_, i) => Math.sin(i) * 0.1);
    const WT = new Float32Array(out * inn);
    for (let r = 0; r < out; r++) for (let c = 0; c < inn; c++) WT[c * out + r] = W[r * inn + c];
    A.write(x, Float32Array.from({ length: inn }, (_, i) => Math.cos(i)));
    A.write(w, W);
    A.write(wt, WT);
    const nt = time(() => K.gemm('nt', 1, out, inn, x, w, y), 2000);
    const nn = time(() => K.gemm('nn', 1, out, inn, x, wt, y2), 2000);
    const same = A.read(y).every((v, i) => Object.is(v, A.read(y2)[i]));
    const fl = 2 * out * inn;
    console.log(`batch-1 layer ${inn}→${out}: gemm nt (m=1) ${(nt.med * 1000).toFixed(1)} µs = ${(fl / nt.med / 1e6).toFixed(1)} GFLOP/s; ` +
      `gemm nn (m=1) on a cached Wᵀ ${(nn.med * 1000).toFixed(1)} µs = ${(fl / nn.med / 1e6).toFixed(1)} GFLOP/s; bitwise equal: ${same}`);
    [x, w, wt, y, y2].forEach((t) => A.release(t));
  }

  // ---- 3. BCE: the library's kernel (from the forward's sigmoid output) vs the former loop from the logits ----
  {
    const P = await load('kernels.wasm');
    const f32 = () => new Float32Array(P.memory.buffer);
    const n = 64 * 784;
    const Z = 1 << 20, Yp = 2 << 20, T = 3 << 20, G = 4 << 20;
    const z = A.alloc(n), y = A.alloc(n), t = A.alloc(n), g = A.alloc(n);
    const zs = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 6);
    const ts = Float32Array.from({ length: n }, (_, i) => (i % 7) / 7);
    A.write(z, zs);
    A.write(t, ts);
    K.actForward(internal.ACTIVATIONS.sigmoid, 0, z, y, n);
    f32().set(zs, Z / 4);
    f32().set(ts, T / 4);
    f32().set(zs.map((v) => 1 / (1 + Math.exp(-v))), Yp / 4);
    const lib = time(() => K.loss('bceLogits', { preActivation: z, output: y }, t, g, 64, 784, 1 / n));
    const same = time(() => P.bce_library_loop(Z, T, G, n, 1 / n));
    const fromY = time(() => P.bce_from_output(Z, Yp, T, G, n, 1 / n));
    const l1 = K.loss('bceLogits', { preActivation: z, output: y }, t, g, 64, 784, 1 / n) / n;
    const l2 = P.bce_from_output(Z, Yp, T, G, n, 1 / n) / n;
    console.log(`BCE over ${n} values (batch 64): library f32_loss_bce_sigmoid (from the forward's σ) ${(lib.med * 1000).toFixed(1)} µs; ` +
      `the former loop from the logits alone (exp, log1p, σ) ${(same.med * 1000).toFixed(1)} µs; probe from the output (one log) ${(fromY.med * 1000).toFixed(1)} µs; mean loss ${l1.toFixed(7)} vs ${l2.toFixed(7)}`);
    // ---- 4. the global gradient norm: one accumulator pair vs four ----
    const np = 435536;
    const p = A.alloc(np);
    A.write(p, Float32Array.from({ length: np }, (_, i) => Math.sin(i) * 1e-2));
    f32().set(A.read(p), Z / 4);
    const s1 = time(() => K.sumSq(p, np));
    const s4 = time(() => P.sum_sq_4acc(np, Z));
    console.log(`Σg² over the card's ${np} gradients: library f32_sum_sq ${(s1.med * 1000).toFixed(1)} µs (${((4 * np) / s1.med / 1e6).toFixed(1)} GB/s); ` +
      `4 accumulator pairs ${(s4.med * 1000).toFixed(1)} µs (${((4 * np) / s4.med / 1e6).toFixed(1)} GB/s)`);
    [z, y, t, g, p].forEach((x) => A.release(x));
  }
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', new URL(import.meta.url).pathname, '--relaxed-child', dir], { stdio: 'inherit' });
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = r.status ?? 1;
}
