// Cold start of latent-wasm in a fresh Node process: import + init() + building the card's model
// + the first inference (batch 1), timed inside the process. run.mjs spawns this N times and also
// takes the wall time of each process (Node's own start-up included).
const t0 = performance.now(); // ms since this process started (performance.timeOrigin)
const { init, Autoencoder } = await import('../dist/index.js');
const t1 = performance.now();
await init();
const t2 = performance.now();
const ae = new Autoencoder({
  inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu',
  outputActivation: 'sigmoid', loss: 'bce', seed: 0,
});
const t3 = performance.now();
const y = ae.reconstruct(new Float32Array(784).fill(0.5));
const t4 = performance.now();
if (!(y.length === 784 && Number.isFinite(y[0]))) throw new Error('cold start: bad output');
process.stdout.write(JSON.stringify({ nodeStartMs: t0, importMs: t1 - t0, initMs: t2 - t1, modelMs: t3 - t2, inferMs: t4 - t3, totalMs: t4 - t0 }));
