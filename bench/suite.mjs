// One implementation's half of the suite, in its own process (a fresh V8 and heap per peer):
//   node bench/suite.mjs --impl ours|tfjs|ort|plain [--simd relaxed] [--threads N] [--backend wasm|cpu]
//                        --ref DIR --out FILE [--quick] [--clock wall|cpu]
//                        [--sections gemm,card,elementwise,adam,train,fit,infer]
// Writes a JSON list of rows { id, section, metric, value, p50Ms, ... } to FILE. run.mjs drives it.
import { writeFileSync } from 'node:fs';
import {
  CARD_GEMM_SETS, ELEMENTWISE_N, GEMM_SHAPES, LAYERS, cardGemms, loadReference, maxAbsDiff, measure, mnistBatch, mnistTrain, seeded,
} from './lib/common.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = args.includes('--quick');
const clock = arg('clock', 'wall');
const implName = arg('impl');
const opts = { simd: arg('simd'), backend: arg('backend'), threads: arg('threads') };
const ALL = ['gemm', 'card', 'elementwise', 'adam', 'train', 'fit', 'infer'];
const sections = new Set((arg('sections') ?? ALL.join(',')).split(','));

const impl = await import(`./impls/${implName}.mjs`);
const label = impl.label(opts);
await impl.setup(opts);
const ref = loadReference(arg('ref'));
const train = mnistTrain();
const x = mnistBatch(256, train);
const rows = [];

function log(row) {
  const v = row.value >= 100 ? Math.round(row.value).toLocaleString('en-US') : row.value.toPrecision(3);
  process.stderr.write(`  ${label.padEnd(40)} ${row.id.padEnd(34)} ${v} ${row.metric}${row.note ? '  ' + row.note : ''}\n`);
}
function push(row) {
  rows.push(row);
  log(row);
}

/** A small fingerprint of a GEMM result, compared across implementations by run.mjs. */
function fingerprint(c) {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i];
  return { sum: s, first: c[0], last: c[c.length - 1] };
}

async function gemmRow(id, section, list, make = impl.gemm) {
  const inputs = list.map(([v, m, n, k], i) => ({ a: seeded(m * k, 11 + i), b: seeded(k * n, 97 + i) }));
  const g = await make(list, inputs);
  const t = await measure(() => g.run(), quick, clock);
  const flops = list.reduce((s, [, m, n, k]) => s + 2 * m * n * k, 0);
  const check = fingerprint(g.result(list.length - 1));
  g.dispose();
  push({ id, section, metric: 'GFLOP/s', value: flops / (t.p50 * 1e6), ...t, check, shapes: list });
}

if (sections.has('gemm') && impl.gemm) {
  for (const v of ['nn', 'nt', 'tn']) {
    // --quick (the CI smoke run) keeps one shape per kind: scalar peers take seconds per call at 1024³
    for (const [m, n, k] of GEMM_SHAPES.filter(([m]) => !quick || m === 64)) await gemmRow(`gemm ${v} ${m}×${n}×${k}`, 'gemm', [[v, m, n, k]]);
  }
}
if (sections.has('card') && impl.gemm) {
  for (const [v, b] of CARD_GEMM_SETS.filter(([, b]) => !quick || b < 256)) {
    await gemmRow(`card gemm ${v}, batch ${b}`, 'card', cardGemms(v, b).map((s) => [v, ...s]));
    // ours only: what Dense.forward runs for inference up to 32 rows (weights packed once)
    if (v === 'nt' && b === 1 && impl.gemmPanels) await gemmRow(`card gemm nt, batch 1, packed W`, 'card', cardGemms(v, b).map((s) => [v, ...s]), impl.gemmPanels);
  }
}

if (sections.has('elementwise') && impl.elementwise) {
  const n = ELEMENTWISE_N;
  const ex = seeded(n, 5, -4, 4);
  const dy = seeded(n, 6);
  // nominal traffic per element: one read + one write (forward), two reads + one write (backward)
  for (const [kind, bytes] of [['relu', 8], ['sigmoid', 8], ['reluBackward', 12]]) {
    const e = await impl.elementwise(kind, ex, dy);
    const t = await measure(() => e.run(), quick, clock);
    e.dispose();
    push({ id: `${kind} n=${n}`, section: 'elementwise', metric: 'GB/s', value: (bytes * n) / (t.p50 * 1e6), ...t });
  }
}

if (sections.has('adam') && impl.adam) {
  const sizes = LAYERS.flatMap(([i, o]) => [i * o, o]);
  const grads = sizes.map((s, q) => seeded(s, 200 + q, -1e-2, 1e-2));
  const nParams = sizes.reduce((a, b) => a + b, 0);
  const o = await impl.adam(grads);
  const t = await measure(() => o.run(), quick, clock);
  o.dispose();
  // nominal Adam traffic: read p, g, m, v and write p, m, v = 28 bytes per parameter
  push({ id: `adam update, ${nParams} params`, section: 'adam', metric: 'GB/s', value: (28 * nParams) / (t.p50 * 1e6), ...t });
}

if (sections.has('train') && impl.train) {
  for (const b of quick ? [64] : [64, 256]) {
    const tr = await impl.train(b, x, ref.weights);
    const first = await tr.firstLoss();
    const t = await measure(() => tr.run(), quick, clock);
    tr.dispose();
    const refLoss = b === 64 ? ref.loss64 : ref.loss256;
    push({
      id: `train step, batch ${b}`, section: 'train', metric: 'samples/s', value: (b * 1000) / t.p50, ...t,
      firstLoss: first, note: `first-step BCE ${first.toFixed(6)} (ours ${refLoss.toFixed(6)})`,
    });
  }
}

if (sections.has('fit') && impl.fitEpoch) {
  const rowsN = quick ? 1024 : train.length / 784;
  const data = train.subarray(0, rowsN * 784);
  await impl.fitEpoch(64, data); // warm-up epoch
  const times = [];
  for (let r = 0; r < (quick ? 1 : 3); r++) times.push(await impl.fitEpoch(64, data));
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1];
  push({ id: 'fit() epoch, batch 64', section: 'train', metric: 'samples/s', value: (rowsN * 1000) / ms, p50: ms, samples: times.length, note: `${rowsN} rows, shuffled` });
}

if (sections.has('infer') && impl.infer) {
  for (const b of [1, 256]) {
    const inf = await impl.infer(b, x, ref.weights);
    const out = await inf.run();
    const diff = maxAbsDiff(out, (b === 1 ? ref.out1 : ref.out256).subarray(0, b * 784));
    const t = await measure(() => inf.run(), quick, clock);
    await inf.dispose();
    const note = `max |Δ| vs ours ${diff.toExponential(1)}`;
    if (b === 1) push({ id: 'infer latency, batch 1', section: 'infer', metric: 'µs', value: t.p50 * 1000, ...t, maxDiff: diff, note });
    else push({ id: 'infer throughput, batch 256', section: 'infer', metric: 'samples/s', value: (b * 1000) / t.p50, ...t, maxDiff: diff, note });
  }
}

// ours only: the same model quantized to int8 (docs/int8.md); |Δ| is the quantization error
if (sections.has('infer') && impl.inferInt8) {
  for (const b of [1, 256]) {
    const inf = await impl.inferInt8(b, x);
    const diff = maxAbsDiff(await inf.run(), (b === 1 ? ref.out1 : ref.out256).subarray(0, b * 784));
    const t = await measure(() => inf.run(), quick, clock);
    await inf.dispose();
    const note = `int8; max |Δ| vs ours f32 ${diff.toExponential(1)}`;
    if (b === 1) push({ id: 'int8 infer latency, batch 1', section: 'infer', metric: 'µs', value: t.p50 * 1000, ...t, maxDiff: diff, note });
    else push({ id: 'int8 infer throughput, batch 256', section: 'infer', metric: 'samples/s', value: (b * 1000) / t.p50, ...t, maxDiff: diff, note });
  }
}

await impl.teardown?.();
writeFileSync(arg('out'), JSON.stringify({ impl: implName, label, opts, rows }, null, 1));
