// Cold start in Node: N fresh processes, each timing import + init() + the first inference of the
// README card's model (784-256-64 autoencoder, one row reconstructed) from the built dist/.
// Timings are noisy, so this is a report, not a test. Usage: npm run cold-start [-- runs]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'index.js');
if (!existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first');
const runs = Number(process.argv[2] ?? 20);

// performance.now() counts from the process's time origin, so `t0` also shows Node's own startup.
const child = `
const c0 = process.cpuUsage();
const t0 = performance.now();
const { init, Autoencoder } = await import(${JSON.stringify(pathToFileURL(entry).href)});
const t1 = performance.now();
await init();
const t2 = performance.now();
const ae = new Autoencoder({ inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu',
  latentActivation: 'relu', outputActivation: 'sigmoid', loss: 'bce', seed: 42 });
const r = ae.reconstruct(new Float32Array(784).fill(0.5));
const t3 = performance.now();
const c = process.cpuUsage(c0);
if (r.length !== 784) throw new Error('bad output');
console.log(JSON.stringify({ nodeStartup: t0, importMs: t1 - t0, initMs: t2 - t1, firstInferenceMs: t3 - t2, totalMs: t3 - t0, cpuMs: (c.user + c.system) / 1000 }));
`;

const rows = [];
for (let i = 0; i < runs; i++) {
  const start = process.hrtime.bigint();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  rows.push({ ...JSON.parse(out), wallMs: wall });
}
const stat = (k) => {
  const v = rows.map((r) => r[k]).sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  return `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)}, min ${v[0].toFixed(1)}`;
};
console.log(`cold start, ${runs} fresh processes, Node ${process.version} (${process.platform} ${process.arch})`);
const load = (await import('node:os')).loadavg()[0];
console.log(`load average (1 min) at the end: ${load.toFixed(2)} on ${(await import('node:os')).cpus().length} cores`);
// totalMs: import + init + first inference (the budget); cpuMs: CPU time spent on it by all
// threads (less sensitive to a busy machine); nodeStartup: Node itself, before our import
for (const k of ['importMs', 'initMs', 'firstInferenceMs', 'totalMs', 'cpuMs', 'nodeStartup', 'wallMs']) console.log(`${k.padEnd(17)} ${stat(k)}`);
