// Where latent-wasm's time goes: the card's training step (batch 64, 256) and batch-1 inference,
// broken down by WebAssembly export (and GEMM shape), with the JS remainder; allocations per step;
// the memory bandwidth the kernels have; and the phases of a cold start.
//   node bench/profile.mjs [--simd relaxed] [--threads N] [--json FILE]
// Method: every kernel of the table is wrapped in a timer (traceKernels, latent-wasm/internal) (two performance.now() calls, ~0.1 µs,
// included in the kernel figures); the uninstrumented step time is measured separately and the
// difference between it and the kernel sum is the JS side (wrappers, checks, staging, loops).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { CARD, ROOT, internals, mnistBatch, stage } from './lib/common.mjs';

const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

if (args.includes('--cold-child')) {
  // A fresh process. 'lib': the library's own path, phase by phase. 'raw': what init() does
  // underneath on Node 20 (no Uint8Array.fromBase64): atob + a charCodeAt loop, compile, instantiate.
  const mode = args[args.indexOf('--cold-child') + 1];
  const t0 = performance.now();
  if (mode === 'lib') {
    const { init, Autoencoder } = await import('../dist/index.js');
    const t1 = performance.now();
    await init();
    const t2 = performance.now();
    const ae = new Autoencoder(CARD);
    const t3 = performance.now();
    ae.reconstruct(new Float32Array(784).fill(0.5));
    const t4 = performance.now();
    ae.reconstruct(new Float32Array(784).fill(0.25));
    const t5 = performance.now();
    process.stdout.write(JSON.stringify({ importDist: t1 - t0, init: t2 - t1, model: t3 - t2, firstInference: t4 - t3, secondInference: t5 - t4, modelMiB: ae.arena.bytesInUse() / 2 ** 20 }));
  } else {
    const b64 = readFileSync(join(ROOT, 'build', 'latent.wasm')).toString('base64');
    const t1 = performance.now();
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const t2 = performance.now();
    const mod = await WebAssembly.compile(bytes);
    const t3 = performance.now();
    await WebAssembly.instantiate(mod, {});
    const t4 = performance.now();
    const fast = Buffer.from(b64, 'base64');
    const t5 = performance.now();
    process.stdout.write(JSON.stringify({ decodeBase64AtobLoop: t2 - t1, decodeBase64Buffer: t5 - t4, compile: t3 - t2, instantiate: t4 - t3, wasmBytes: fast.length }));
  }
  process.exit(0);
}

const lines = [];
const say = (...a) => {
  const l = a.join(' ');
  lines.push(l);
  console.log(l);
};
const simd = argOf('simd') ?? 'strict';
const startedAt = new Date().toISOString();
const load0 = loadavg().map((l) => +l.toFixed(2));
const { init, Autoencoder } = await import('../dist/index.js');
const threads = Number(argOf('threads') ?? 1);
await init({ simd, threads });
const { A, K, internal } = await internals();
const x = mnistBatch(256);
const out = { simd, node: process.version };

// ---- instrumentation ----
// per key: the time it took within the current call-set; medians over call-sets are robust to
// the other processes on this machine
let cur = new Map();
let on = false;
const ACT_NAMES = Object.keys(internal.ACTIVATIONS).sort((a, b) => internal.ACTIVATIONS[a] - internal.ACTIVATIONS[b]);
const timed = (name, f) =>
  function (...a) {
    if (!on) return f(...a);
    const t = performance.now();
    const r = f(...a);
    const dt = performance.now() - t;
    let key = name;
    if (name.startsWith('f32_gemm')) key = `${name.slice(4)} ${a[0]}×${a[1]}×${a[2]}`;
    else if (name === 'f32_act_forward' || name === 'f32_act_backward' || name === 'f32_bias_act') key = `${name.slice(4)} ${ACT_NAMES[a[0]]}`;
    const s = cur.get(key) ?? { calls: 0, ms: 0, flops: 0 };
    s.calls++;
    s.ms += dt;
    if (key.startsWith('gemm')) s.flops += 2 * a[0] * a[1] * a[2];
    cur.set(key, s);
    return r;
  };
let untrace = () => {};
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

function timeIt(fn, reps) {
  for (let i = 0; i < Math.min(reps, 20); i++) fn();
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

function breakdown(label, fn, reps, samplesPerCall) {
  // Instrumented and plain call-sets alternate, so both see the same machine load.
  for (let i = 0; i < 20; i++) fn();
  const per = new Map(); // key → list of per-call-set records
  const totals = [];
  const rests = [];
  const plains = [];
  for (let i = 0; i < reps; i++) {
    untrace();
    let t = performance.now();
    fn();
    plains.push(performance.now() - t);
    untrace = internal.traceKernels(timed);
    cur = new Map();
    on = true;
    t = performance.now();
    fn();
    const total = performance.now() - t;
    on = false;
    totals.push(total);
    let k = 0;
    for (const [key, s] of cur) {
      (per.get(key) ?? per.set(key, []).get(key)).push(s);
      k += s.ms;
    }
    rests.push(total - k);
  }
  untrace();
  const rows = [...per.entries()].map(([k, list]) => {
    const us = median(list.map((s) => s.ms)) * 1000;
    const flops = list[0].flops;
    return { key: k, calls: list[0].calls, us, gflops: flops ? flops / (us * 1e3) : undefined, flops };
  });
  rows.sort((a, b) => b.us - a.us);
  const plainUs = median(plains) * 1000;
  const totalUs = median(totals) * 1000;
  const restUs = median(rests) * 1000;
  // Σ of per-export medians + the median rest: the step without preemption by other processes
  // (on a busy machine the median total still includes time slices lost to them)
  const sumUs = rows.reduce((s, r) => s + r.us, 0) + restUs;
  say(`\n== ${label}: ${plainUs.toFixed(1)} µs per call uninstrumented (${Math.round((samplesPerCall * 1e6) / plainUs).toLocaleString('en-US')} samples/s), ${totalUs.toFixed(1)} µs instrumented; medians of ${reps}`);
  say(`   sum of the per-export medians + rest: ${sumUs.toFixed(1)} µs (${Math.round((samplesPerCall * 1e6) / sumUs).toLocaleString('en-US')} samples/s); shares below are of this sum`);
  const gemmUs = rows.filter((r) => r.key.startsWith('gemm')).reduce((s, r) => s + r.us, 0);
  const flops = rows.reduce((s, r) => s + r.flops, 0);
  say(`   export (shape m×n×k)                 calls  µs (median)   share   GFLOP/s`);
  for (const r of rows) say(`   ${r.key.padEnd(36)} ${String(r.calls).padStart(5)} ${r.us.toFixed(1).padStart(12)} ${((100 * r.us) / sumUs).toFixed(1).padStart(6)}%  ${r.gflops ? r.gflops.toFixed(1).padStart(7) : ''}`);
  say(`   ${'(rest: JS, wrappers, checks, staging)'.padEnd(36)} ${''.padStart(5)} ${restUs.toFixed(1).padStart(12)} ${((100 * restUs) / sumUs).toFixed(1).padStart(6)}%`);
  say(`   GEMM total ${gemmUs.toFixed(1)} µs (${((100 * gemmUs) / sumUs).toFixed(0)}%) at ${(flops / (gemmUs * 1e3)).toFixed(1)} GFLOP/s; calls into wasm per call-set: ${rows.reduce((s, r) => s + r.calls, 0)}`);
  return { label, plainUs, totalUs, sumUs, restUs, gemmUs, gemmGflops: flops / (gemmUs * 1e3), rows };
}

// ---- training step ----
out.train = [];
for (const b of [64, 256]) {
  const ae = new Autoencoder(CARD);
  ae.reserve(b);
  const xb = A.alloc(b * 784);
  const step = () => {
    stage(A, xb, x, b);
    ae.trainStep(xb, b);
  };
  const r = breakdown(`training step, batch ${b} (${simd})`, step, b === 64 ? 200 : 60, b);
  const stageUs = timeIt(() => stage(A, xb, x, b), 200) * 1000;
  say(`   of the JS part: staging the batch (stage(), a ${(b * 784 * 4 / 1024).toFixed(0)} KiB copy) ${stageUs.toFixed(1)} µs`);
  r.stageUs = stageUs;
  // allocation per step: V8's sampling heap profiler (every ~32 bytes) over 300 steps, by call
  // site; wasm memory and the arena's bytes must not change at all
  const mem0 = internal.memoryBytes();
  const arena0 = A.bytesInUse();
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 32, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const N = 300;
  for (let i = 0; i < N; i++) step();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const sites = new Map();
  const walk = (node, stack) => {
    const f = node.callFrame;
    const here = `${f.functionName || '(anonymous)'} ${f.url.replace(/.*\/(dist|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    const st = [...stack, here];
    if (node.selfSize && st.some((x) => x.includes('dist/'))) {
      const key = st.filter((x) => !x.includes('bench/')).slice(-2).reverse().join(' ← ');
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, st);
  };
  walk(profile.head, []);
  const perStep = [...sites.values()].reduce((a, b) => a + b, 0) / N;
  r.alloc = { jsBytesPerStep: perStep, wasmMemoryGrew: internal.memoryBytes() !== mem0, arenaBytesChanged: A.bytesInUse() !== arena0, sites: Object.fromEntries([...sites].map(([k, v]) => [k, v / N])) };
  say(`   allocation per step: JS heap ≈ ${perStep.toFixed(0)} B (sampled); wasm memory grew: ${r.alloc.wasmMemoryGrew}; arena bytes changed: ${r.alloc.arenaBytesChanged}. Largest sites:`);
  for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 6)) say(`     ${String(Math.round(v / N)).padStart(5)} B  ${k}`);
  A.release(xb);
  ae.dispose();
  out.train.push(r);
}

// ---- batch-1 inference ----
{
  const ae = new Autoencoder(CARD);
  const x1 = x.subarray(0, 784);
  out.infer1 = breakdown(`inference, batch 1: reconstruct() (${simd})`, () => ae.reconstruct(x1), 2000, 1);
  // the forward pass alone, on an already-staged row: what the API adds around it
  ae.reserve(1);
  const xb = A.alloc(784);
  A.write(xb, x1);
  const fwd = timeIt(() => ae.decoder.forward(ae.encoder.forward(xb, 1), 1), 3000) * 1000;
  say(`   forward pass alone (layers on a staged row, no API wrapper): ${fwd.toFixed(1)} µs`);
  out.infer1.forwardOnlyUs = fwd;
  A.release(xb);
  ae.dispose();
}

// ---- batch-256 inference ----
{
  const ae = new Autoencoder(CARD);
  out.infer256 = breakdown(`inference, batch 256: reconstruct() (${simd})`, () => ae.reconstruct(x), 200, 256);
  ae.dispose();
}

// ---- bandwidth references (sum of squares reads n floats; relu reads + writes) ----
out.bandwidth = [];
say('\n== bandwidth of simple kernels by working-set size');
for (const n of [50176, 200704, 435536, 2 * 1024 * 1024]) {
  const t = A.alloc(n);
  const y = A.alloc(n);
  const ss = timeIt(() => K.sumSq(t, n), 200);
  const relu = timeIt(() => K.actForward(1, 0, t, y, n), 200);
  const row = { n, kib: (n * 4) / 1024, sumSqGBs: (4 * n) / (ss * 1e6), reluGBs: (8 * n) / (relu * 1e6) };
  out.bandwidth.push(row);
  say(`   n=${String(n).padStart(8)} (${row.kib.toFixed(0).padStart(5)} KiB): f32_sum_sq ${row.sumSqGBs.toFixed(1)} GB/s read; relu ${row.reluGBs.toFixed(1)} GB/s read+write`);
  A.release(y);
  A.release(t);
}

// ---- cold start phases (fresh processes) ----
{
  out.cold = {};
  for (const mode of ['lib', 'raw']) {
    const runs = [];
    for (let i = 0; i < 9; i++) {
      const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--cold-child', mode], { encoding: 'utf8', cwd: ROOT });
      if (r.status === 0) runs.push(JSON.parse(r.stdout));
      else throw new Error(r.stderr);
    }
    const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[runs.length >> 1];
    out.cold[mode] = Object.fromEntries(Object.keys(runs[0]).map((k) => [k, med(k)]));
  }
  say('\n== cold start phases (medians of 9 fresh processes each, ms)');
  for (const [mode, o] of Object.entries(out.cold)) {
    say(`   ${mode === 'lib' ? 'the library: import dist, init(), new Autoencoder(card), reconstruct(1 row)' : 'underneath init(): the strict .wasm'}`);
    for (const [k, v] of Object.entries(o)) say(`     ${k.padEnd(22)} ${v.toFixed(2)}`);
  }
}

const json = argOf('json');
if (json) writeFileSync(json, JSON.stringify(out, null, 1));
if (args.includes('--write')) {
  const md = `# Where latent-wasm's time goes (profile)

Generated by \`node bench/profile.mjs ${args.join(' ')}\` on ${startedAt}: Node ${process.version}, ${cpus()[0]?.model} (${cpus().length} cores),
load average at start ${load0.join(' / ')}. Kernel rows are medians of per-call timings (every export of
the core wrapped in a timer); the rest is JS. See bench/RESULTS.md for the peer comparison.

\`\`\`
${lines.join('\n')}
\`\`\`
`;
  writeFileSync(join(ROOT, 'bench', simd === 'relaxed' ? 'PROFILE-relaxed.md' : 'PROFILE.md'), md);
}
