// Cold start in a fresh Node process: import + init + building the card's model + the first
// inference (batch 1), timed inside the process. run.mjs spawns this N times per implementation
// and also takes each process's wall time (Node's own start-up included).
//   node bench/cold-start.mjs [ours|tfjs-wasm|tfjs-cpu|ort] [model.onnx]
// ours and TF.js build the model from a seeded init; onnxruntime-web loads the .onnx file that
// run.mjs wrote from our weights (as an app would load a model file).
const t0 = performance.now(); // ms since this process started (performance.timeOrigin)
const impl = process.argv[2] ?? 'ours';
const x = new Float32Array(784).fill(0.5);
const marks = {};
let y;
if (impl === 'ours') {
  const { init, Autoencoder } = await import('../dist/index.js');
  marks.import = performance.now();
  await init();
  marks.init = performance.now();
  const ae = new Autoencoder({
    inputSize: 784, hidden: [256], latentSize: 64, activation: 'relu', latentActivation: 'relu',
    outputActivation: 'sigmoid', loss: 'bce', seed: 0,
  });
  marks.model = performance.now();
  y = ae.reconstruct(x);
} else if (impl === 'tfjs-wasm' || impl === 'tfjs-cpu') {
  const tf = await import('@tensorflow/tfjs');
  if (impl === 'tfjs-wasm') {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url).pathname);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  marks.import = performance.now();
  await tf.setBackend(impl === 'tfjs-wasm' ? 'wasm' : 'cpu');
  await tf.ready();
  marks.init = performance.now();
  const m = tf.sequential();
  [[784, 256, 'relu'], [256, 64, 'relu'], [64, 256, 'relu'], [256, 784, 'sigmoid']].forEach(([i, o, act], k) =>
    m.add(tf.layers.dense({ units: o, activation: act, ...(k === 0 ? { inputShape: [i] } : {}) })));
  marks.model = performance.now();
  const t = tf.tensor2d(x, [1, 784]);
  y = m.predict(t).dataSync();
} else if (impl === 'ort') {
  const ort = await import('onnxruntime-web');
  const { readFileSync } = await import('node:fs');
  marks.import = performance.now();
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('../node_modules/onnxruntime-web/dist/', import.meta.url).pathname;
  marks.init = performance.now();
  const session = await ort.InferenceSession.create(readFileSync(process.argv[3]), { executionProviders: ['wasm'] });
  marks.model = performance.now();
  y = (await session.run({ x: new ort.Tensor('float32', x, [1, 784]) })).reconstruction.data;
} else throw new Error(`unknown implementation ${impl}`);
const t4 = performance.now();
if (!(y.length === 784 && Number.isFinite(y[0]))) throw new Error('cold start: bad output');
process.stdout.write(JSON.stringify({
  nodeStartMs: t0, importMs: marks.import - t0, initMs: marks.init - marks.import, modelMs: marks.model - marks.init,
  inferMs: t4 - marks.model, totalMs: t4 - t0,
}));
