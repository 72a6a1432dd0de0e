// The worker: owns the digits and the model, trains with the library's fit loop, and draws the
// views on the page's canvases (OffscreenCanvas). It uses only latent-wasm's public API. The
// page's main thread runs no kernel and draws nothing, so it stays responsive while training.
import {
  init, loadModel, pairRows, QuantizedModel, simdMode, Autoencoder, DenoisingAutoencoder, SparseAutoencoder, VAE, ConvAutoencoder, VERSION,
  type AnyModel, type BatchLogs,
} from '../src/index.js';
import { loadDigits, type Digits } from './digits.js';
import { digitGrid, histogram, lineChart, scatter, type Target } from './draw.js';
import { canvasBox, GRID, RANKED, SAMPLES, SHOWN, STEPS, type CanvasBox } from './layout.js';
import type { Captions, CurvePoint, FromWorker, ModelKind, Progress, Settings, ToWorker } from './protocol.js';

// A dedicated worker's global scope; the project compiles with the DOM lib, whose `self` is a Window.
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** Progress messages at most this often (ms): the page moves a bar and a line of text. */
const PROGRESS_MS = 250;

let digits: Digits | null = null;
/** The held-out digits shown over their reconstructions, and their noisy copies (denoising). */
let shown: Float32Array | null = null;
let noisy: Float32Array | null = null;
let model: AnyModel | null = null;
let kind: ModelKind = 'autoencoder';
let settings: Settings | null = null;
let epochsDone = 0;
/** Batches trained since the model was made: the loss curves' x (epochs) grows with it, also
 *  across a pause in the middle of an epoch. */
let stepsDone = 0;
let quantile = 0.95;
let training: Promise<void> | null = null;
let controller: AbortController | null = null;

const KINDS: Record<string, ModelKind> = {
  autoencoder: 'autoencoder',
  denoisingAutoencoder: 'denoising',
  sparseAutoencoder: 'sparse',
  vae: 'vae',
  convAutoencoder: 'conv',
};

function build(s: Settings): AnyModel {
  const optimizer = { type: 'adam' as const, learningRate: s.learningRate };
  const dense = { inputSize: 784, hidden: s.hidden, latentSize: s.latentSize, optimizer, seed: s.seed };
  switch (s.model) {
    case 'autoencoder':
      return new Autoencoder(dense);
    case 'denoising':
      return new DenoisingAutoencoder({ ...dense, noise: { type: 'gaussian', std: s.noiseStd } });
    case 'sparse':
      // a ReLU code, so the L1 penalty can drive code values to exactly zero
      return new SparseAutoencoder({ ...dense, latentActivation: 'relu', sparsity: { l1: s.sparsityL1 } });
    case 'vae':
      return new VAE({ ...dense, beta: s.beta });
    case 'conv':
      return new ConvAutoencoder({ inputShape: [1, 28, 28], filters: s.hidden, latentSize: s.latentSize, optimizer, seed: s.seed });
  }
}

/** The held-out digits shown with Gaussian noise of this std, clipped to [0, 1]. The library's
 *  own noise is drawn inside its training step; this copy is only for display, from a small
 *  seeded generator (mulberry32 + Box–Muller) so the same picture comes back every time. */
function noisyCopy(x: Float32Array, std: number): Float32Array {
  let a = 0x9e3779b9;
  const uniform = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return x.map((v) => {
    const n = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    return Math.min(1, Math.max(0, v + std * n));
  });
}

function noiseStd(): number {
  const noise = model instanceof Autoencoder ? model.config.noise : undefined;
  return noise?.type === 'gaussian' ? noise.std : settings?.noiseStd ?? 0.3;
}

function lossName(m: AnyModel): string {
  if (m instanceof VAE) return m.config.beta === 1 ? '−ELBO, nats per digit' : `loss (β = ${m.config.beta}), nats per digit`;
  const loss = m.config.loss === 'bce' ? 'BCE' : m.config.loss.toUpperCase();
  return m.config.sparsity ? `${loss} per pixel + L1 penalty` : `${loss} per pixel`;
}

function describe(m: AnyModel): string {
  const params = Object.values(m.getWeights()).reduce((s, w) => s + w.length, 0);
  return `${m.constructor.name} · latent size ${m.latentSize} · ${params.toLocaleString('en-US')} parameters`;
}

/** The two principal axes of the rows × L codes (power iteration on the float64 covariance,
 *  deflated once), each with its sign fixed so the picture does not flip between updates. At
 *  L = 2 the axes are the code's own. */
function axes(codes: Float32Array, L: number): Float64Array[] {
  if (L <= 2) return Array.from({ length: 2 }, (_, i) => Float64Array.from({ length: L }, (_, j) => (i === j ? 1 : 0)));
  const n = codes.length / L;
  const mean = new Float64Array(L);
  for (let r = 0; r < n; r++) for (let j = 0; j < L; j++) mean[j] += codes[r * L + j] / n;
  const cov = new Float64Array(L * L);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < L; i++) {
      const di = codes[r * L + i] - mean[i];
      for (let j = 0; j < L; j++) cov[i * L + j] += (di * (codes[r * L + j] - mean[j])) / n;
    }
  }
  const out: Float64Array[] = [];
  for (let k = 0; k < 2; k++) {
    let v = new Float64Array(L).fill(1 / Math.sqrt(L));
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(L);
      for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) w[i] += cov[i * L + j] * v[j];
      lambda = Math.hypot(...w);
      if (lambda === 0) break;
      v = w.map((x) => x / lambda);
    }
    let big = 0;
    for (let j = 0; j < L; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) v = v.map((x) => -x);
    out.push(v);
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) cov[i * L + j] -= lambda * v[i] * v[j]; // deflate
  }
  return out;
}

function project(codes: Float32Array, L: number, [u, w]: Float64Array[]): Float32Array {
  const n = codes.length / L;
  const xy = new Float32Array(n * 2);
  for (let r = 0; r < n; r++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < L; j++) {
      a += codes[r * L + j] * u[j];
      b += codes[r * L + j] * (w[j] ?? 0);
    }
    xy[2 * r] = a;
    xy[2 * r + 1] = b;
  }
  return xy;
}

/** Mean and standard deviation of column `c` of (x, y) pairs. */
function meanStd(xy: Float32Array, c: number): [number, number] {
  const n = xy.length / 2;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += xy[2 * i + c];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (xy[2 * i + c] - mean) ** 2;
  return [mean, Math.sqrt(sq / n)];
}

/** What the views show, kept to redraw on resize or when the threshold moves. */
interface ViewData {
  reconstructions: Float32Array;
  codes: Float32Array;
  twoD: boolean;
  vae?: { grid: Float32Array; samples: Float32Array; interpolation: Float32Array };
  restored?: Float32Array;
}

function computeViews(): ViewData {
  const m = model!;
  const d = digits!;
  const L = m.latentSize;
  const codes = m.encode(d.test);
  const ax = axes(codes, L);
  const v: ViewData = {
    reconstructions: m.reconstruct(shown!),
    codes: project(codes, L, ax),
    twoD: L <= 2,
  };
  if (m instanceof VAE) {
    // the decoded plane spanned by the two axes, over mean ± 2σ of the held-out codes on each
    // (the prior's ±2 once training has pulled the codes to N(0, I); early on they sit elsewhere)
    const [ma, sa] = meanStd(v.codes, 0);
    const [mb, sb] = meanStd(v.codes, 1);
    const z = new Float32Array(GRID * GRID * L);
    for (let i = 0; i < GRID; i++) {
      for (let j = 0; j < GRID; j++) {
        const a = ma + sa * (-2 + (4 * j) / (GRID - 1));
        const b = mb + sb * (2 - (4 * i) / (GRID - 1));
        for (let k = 0; k < L; k++) z[(i * GRID + j) * L + k] = a * ax[0][k] + b * (ax[1][k] ?? 0);
      }
    }
    const row = (i: number) => d.test.subarray(i * 784, (i + 1) * 784);
    v.vae = {
      grid: m.decode(z),
      samples: m.sample(SAMPLES, { seed: 1 }),
      interpolation: m.interpolate(row(d.pair[0]), row(d.pair[1]), STEPS),
    };
  }
  if (noisy) v.restored = m.reconstruct(noisy);
  return v;
}

// ---- drawing (on the page's canvases, handed over as OffscreenCanvas) ----

let canvases: Record<string, OffscreenCanvas> = {};
let dpr = 1;
let boxes: Record<string, CanvasBox> = {};
let curve: CurvePoint[] = [];
let lossLabel = '';
let last: ViewData | null = null;

const target = (id: string): Target => ({ canvas: canvases[id], width: boxes[id].width, height: boxes[id].height, dpr });
const ready = (id: string) => canvases[id] !== undefined && boxes[id] !== undefined;

function drawLoss(): void {
  if (!ready('loss')) return;
  const series = (key: 'train' | 'val') => curve.filter((p) => p[key] !== undefined).map((p): [number, number] => [p.x, p[key]!]);
  lineChart(target('loss'), [
    { name: 'train', color: '#4e79a7', points: series('train') },
    { name: 'held-out', color: '#f28e2b', points: series('val') },
  ], 'epoch', lossLabel);
}

function grid(id: string, images: Float32Array, count: number, outline?: (i: number) => string | null): void {
  if (ready(id)) digitGrid(target(id), boxes[id].grid!, images, count, outline);
}

function drawViews(): void {
  const v = last;
  if (!v) return;
  // each row of 10 shown digits above the same 10 after the model
  grid('recon', pairRows(shown!, v.reconstructions, 784, 10), 2 * SHOWN);
  if (v.restored) grid('denoise', pairRows(noisy!, v.restored, 784, 10), 2 * SHOWN);
  if (ready('scatter')) {
    scatter(target('scatter'), v.codes, digits!.testLabels, v.twoD ? 'z₁' : 'principal axis 1', v.twoD ? 'z₂' : 'principal axis 2');
  }
  if (v.vae) {
    grid('grid', v.vae.grid, GRID * GRID);
    grid('samples', v.vae.samples, SAMPLES);
    grid('interp', v.vae.interpolation, STEPS);
  }
  const anomaly = drawAnomaly();
  post({ type: 'views', captions: { twoD: v.twoD, latentSize: model!.latentSize, anomaly } });
}

/** Histogram with the threshold, and the most unusual held-out digits (flagged ones outlined). */
function drawAnomaly(): Captions['anomaly'] {
  const d = digits!;
  // issue 10's detector: the threshold is a quantile of the training digits' scores (saved with
  // the model), and detect() flags the held-out digits scoring above it
  const m = model!;
  m.calibrate(d.train, { quantile });
  const { scores, flags, threshold } = m.detect(d.test);
  const rule = `calibrate(training digits, { quantile: ${quantile} })`;
  if (ready('hist')) histogram(target('hist'), scores, threshold, 'reconstruction error (MSE per pixel)');
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
  const top = order.slice(0, RANKED);
  const images = new Float32Array(top.length * 784);
  top.forEach((i, k) => images.set(d.test.subarray(i * 784, (i + 1) * 784), k * 784));
  grid('ranked', images, top.length, (k) => (flags[top[k]] ? '#e15759' : null));
  const byDigit = new Array<number>(10).fill(0);
  let flagged = 0;
  flags.forEach((f, i) => {
    flagged += f;
    byDigit[d.testLabels[i]] += f;
  });
  const most = byDigit.map((c, digit): [number, number] => [digit, c]).sort((a, b) => b[1] - a[1]).slice(0, 3).filter(([, c]) => c > 0);
  return { threshold, flagged, total: scores.length, most, rule };
}

function clearAll(): void {
  for (const c of Object.values(canvases)) c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
}

/** Pixel variance of each canvas (luminance over the white page: a transparent pixel is white). */
function variances(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, c] of Object.entries(canvases)) {
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < data.length; i += 4) {
      const a = data[i + 3] / 255;
      const y = (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]) * a + 255 * (1 - a);
      sum += y;
      sq += y * y;
    }
    const n = data.length / 4 || 1;
    out[id] = sq / n - (sum / n) ** 2;
  }
  return out;
}

function updateViews(): void {
  last = computeViews();
  drawViews();
}

function valLoss(): number {
  return model!.evaluate(digits!.test).loss;
}

/** Loss points not yet sent to the page (they go with the next progress message). */
let unsent: CurvePoint[] = [];

function addCurve(points: CurvePoint[]): void {
  curve.push(...points);
  unsent.push(...points);
  drawLoss();
}

function sendProgress(progress: Progress | null): void {
  post({ type: 'progress', progress, points: unsent });
  unsent = [];
}

function adopt(m: AnyModel, s: Settings): void {
  model?.dispose();
  model = m;
  kind = KINDS[m.kind];
  settings = s;
  epochsDone = 0;
  stepsDone = 0;
  curve = [];
  lossLabel = lossName(m);
  clearAll();
  noisy = kind === 'denoising' ? noisyCopy(shown!, noiseStd()) : null;
  post({ type: 'model', kind, description: describe(m), summary: m.summary(), lossName: lossLabel, settings: s });
  addCurve([{ x: 0, val: valLoss() }]);
  sendProgress(null);
  updateViews();
}

async function train(): Promise<void> {
  const m = model!;
  const s = settings!;
  const d = digits!;
  const remaining = s.epochs - epochsDone;
  if (remaining <= 0) {
    post({ type: 'state', state: 'done' });
    return;
  }
  controller = new AbortController();
  const before = epochsDone; // a resumed run's epochs count on from the completed ones
  const rows = d.train.length / 784;
  const batches = Math.ceil(rows / s.batchSize);
  const trainEvery = Math.max(1, Math.round(batches / 25));
  const valEvery = Math.max(1, Math.round(batches / 5));
  let windowSum = 0;
  let windowRows = 0;
  let lastPost = 0;
  let rateStart = performance.now();
  let rateRows = 0;
  let samplesPerSecond = 0;
  const onBatchEnd = (logs: BatchLogs) => {
    windowSum += logs.loss * logs.size;
    windowRows += logs.size;
    rateRows += logs.size;
    const now = performance.now();
    if (now - rateStart > 500) {
      samplesPerSecond = (rateRows * 1000) / (now - rateStart);
      rateStart = now;
      rateRows = 0;
    }
    const epoch = before + logs.epoch;
    const x = ++stepsDone / logs.batches;
    const done = logs.batch + 1;
    const points: CurvePoint[] = [];
    if (done % trainEvery === 0 || done === logs.batches) {
      points.push({ x, train: windowSum / windowRows });
      windowSum = windowRows = 0;
    }
    const validate = done % valEvery === 0 || done === logs.batches;
    if (validate) {
      if (points.length) points[0].val = valLoss();
      else points.push({ x, val: valLoss() });
    }
    if (points.length) addCurve(points);
    if (done === logs.batches || now - lastPost > PROGRESS_MS) {
      lastPost = now;
      sendProgress({ epoch, epochs: s.epochs, batch: done, batches: logs.batches, samplesPerSecond, loss: logs.loss });
    }
    if (validate) {
      updateViews();
      // samples/s counts training only, not the evaluation and drawing just done
      rateStart = performance.now();
      rateRows = 0;
    }
  };
  post({ type: 'state', state: 'training' });
  try {
    await m.fit(d.train, {
      epochs: remaining,
      batchSize: s.batchSize,
      signal: controller.signal,
      onBatchEnd,
      onEpochEnd: () => {
        epochsDone++;
      },
    });
    post({ type: 'state', state: 'done' });
  } catch (e) {
    if (controller.signal.aborted) post({ type: 'state', state: 'paused' });
    else throw e;
  } finally {
    controller = null;
  }
}

async function stop(): Promise<void> {
  controller?.abort();
  await training?.catch(() => {});
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'canvases':
      canvases = msg.canvases;
      dpr = msg.dpr;
      return;
    case 'layout':
      boxes = Object.fromEntries(Object.entries(msg.available).map(([id, w]) => [id, canvasBox(id, w)]));
      drawLoss();
      if (last) drawViews();
      return;
    case 'load': {
      await init();
      post({ type: 'ready', simd: simdMode() ?? 'strict', version: VERSION });
      digits = await loadDigits(msg.url);
      shown = new Float32Array(SHOWN * 784);
      digits.shown.forEach((i, k) => shown!.set(digits!.test.subarray(i * 784, (i + 1) * 784), k * 784));
      post({ type: 'data', trainRows: digits.trainLabels.length, testRows: digits.testLabels.length });
      return;
    }
    case 'start': {
      if (training) return;
      if (!model) adopt(build(msg.settings), msg.settings);
      else settings = { ...settings!, epochs: msg.settings.epochs, batchSize: msg.settings.batchSize };
      training = train().finally(() => {
        training = null;
      });
      await training;
      return;
    }
    case 'pause':
      await stop();
      return;
    case 'reset':
      await stop();
      model?.dispose();
      model = null;
      last = null;
      curve = [];
      unsent = [];
      clearAll();
      post({ type: 'state', state: 'idle' });
      return;
    case 'save': {
      if (!model) return;
      const bytes = model.save();
      post({ type: 'file', bytes, name: `latent-wasm-${kind}.safetensors` }, [bytes.buffer]);
      return;
    }
    case 'open': {
      await stop();
      const m = loadModel(msg.bytes);
      if (m instanceof QuantizedModel) {
        m.dispose();
        throw new Error('this page trains models: an int8 (quantized) file can be used for inference only');
      }
      if (m.inputSize !== 784) {
        const size = m.inputSize;
        m.dispose();
        throw new Error(`this page shows 28×28 digits; the model file expects ${size} values per row`);
      }
      adopt(m, { ...(settings ?? ({} as Settings)), model: KINDS[m.kind], latentSize: m.latentSize });
      post({ type: 'state', state: 'idle' });
      return;
    }
    case 'threshold':
      quantile = msg.quantile;
      if (last) drawViews();
      return;
    case 'inspect':
      post({ type: 'inspected', variances: variances() });
      return;
  }
}

scope.onmessage = (e) => {
  handle(e.data).catch((err: unknown) => {
    post({ type: 'error', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  });
};
