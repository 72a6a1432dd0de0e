// The page: controls and captions. It hands its canvases to the worker (OffscreenCanvas), which
// trains and draws; each message handled here changes a few lines of text, so the main thread
// stays free while training.
import { DIGIT_COLORS } from './draw.js';
import { CANVASES, canvasBox } from './layout.js';
import type { Captions, CurvePoint, FromWorker, ModelKind, Settings, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);

/** What the page shows, also read by the end-to-end test (test/demo.node.test.ts). */
const state = {
  phase: 'loading' as 'loading' | 'idle' | 'training' | 'paused' | 'done',
  kind: 'autoencoder' as ModelKind,
  curve: [] as CurvePoint[],
  views: 0,
  errors: [] as string[],
  /** The longest the page spent handling one worker message since training last started (ms). */
  slowestMessageMs: 0,
  /** When the page asked the worker for the digits (performance.now()). */
  dataRequestedAt: 0,
  /** The pixel variance of each canvas, as the worker reads it back. */
  inspect: () =>
    new Promise<Record<string, number>>((resolve) => {
      inspected = resolve;
      send({ type: 'inspect' });
    }),
};
(window as unknown as { __demo: typeof state }).__demo = state;
let inspected: ((v: Record<string, number>) => void) | null = null;
let hasModel = false;

const DEFAULTS: Record<ModelKind, { hidden: string; latentSize: number }> = {
  autoencoder: { hidden: '256', latentSize: 32 },
  denoising: { hidden: '256', latentSize: 32 },
  sparse: { hidden: '256', latentSize: 32 },
  vae: { hidden: '256', latentSize: 2 },
  conv: { hidden: '16, 32', latentSize: 32 },
};

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (msg: ToWorker, transfer: Transferable[] = []) => worker.postMessage(msg, transfer);

function settings(): Settings {
  const num = (id: string) => Number(input(id).value);
  return {
    model: $<HTMLSelectElement>('model').value as ModelKind,
    hidden: input('hidden').value.split(/[\s,]+/).filter(Boolean).map(Number),
    latentSize: num('latentSize'),
    epochs: num('epochs'),
    batchSize: num('batchSize'),
    learningRate: num('learningRate'),
    seed: num('seed'),
    noiseStd: num('noiseStd'),
    sparsityL1: num('sparsityL1'),
    beta: num('beta'),
  };
}

/** Shows the parts that belong to the chosen model (data-for="vae", ...). */
function showFor(kind: ModelKind): void {
  state.kind = kind;
  document.querySelectorAll<HTMLElement>('[data-for]').forEach((el) => (el.hidden = el.dataset.for !== kind));
  $('hidden-label').textContent = kind === 'conv' ? 'Conv filters' : 'Hidden widths';
}

function controls(): void {
  const { phase } = state;
  const busy = phase === 'training' || phase === 'loading';
  $<HTMLButtonElement>('start').disabled = busy;
  $<HTMLButtonElement>('start').textContent = phase === 'paused' ? 'Resume' : phase === 'done' ? 'Train more' : 'Train';
  $<HTMLButtonElement>('pause').disabled = phase !== 'training';
  $<HTMLButtonElement>('reset').disabled = !hasModel || phase === 'loading';
  $<HTMLButtonElement>('save').disabled = !hasModel || phase === 'loading';
  // the architecture is fixed once a model exists; epochs and batch size may change between runs
  document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('#controls select, #controls .fields input').forEach((el) => {
    el.disabled = busy || (hasModel && el.id !== 'epochs' && el.id !== 'batchSize');
  });
}

/** The progress bar, moved by a transform: no layout, drawn by the compositor. */
function bar(fraction: number): void {
  $('bar').style.transform = `scaleX(${fraction.toFixed(4)})`;
}

function status(text: string, error = false): void {
  $('status').textContent = text;
  $('status').style.color = error ? 'var(--alert)' : '';
}

/** Sizes every canvas's CSS box from its card and tells the worker. Hidden cards (another
 *  model's views) take the width of a visible card of the same kind. */
function layout(): void {
  const inner = (el: HTMLElement) => el.clientWidth - 32; // the cards' padding
  const wide = inner($('loss').parentElement!);
  const half = inner($('recon').parentElement!);
  const available: Record<string, number> = {};
  for (const id of CANVASES) {
    available[id] = id === 'loss' ? wide : id === 'hist' || id === 'ranked' ? (wide - 20) / 2 : half;
    const box = canvasBox(id, available[id]);
    $(id).style.width = `${box.width}px`;
    $(id).style.height = `${box.height}px`;
  }
  send({ type: 'layout', available });
}

function captions(c: Captions): void {
  $('axes').textContent = c.twoD ? 'held-out codes (z₁, z₂), coloured by digit' : `held-out ${c.latentSize}-D codes on their 2 principal axes, coloured by digit`;
  $('grid-axes').textContent = `${c.twoD ? 'z₁ (→) and z₂ (↑)' : 'the 2 principal axes'} over the held-out codes' mean ± 2σ`;
  if (c.summary) {
    $('summary').textContent = c.summary;
    $('summary').hidden = false;
  }
  const a = c.anomaly;
  const n = (v: number) => v.toLocaleString('en-US');
  $('score-name').textContent = `held-out digits by score (MSE per pixel); threshold from ${a.rule}`;
  $('flagged').textContent =
    `Threshold ${a.threshold.toPrecision(3)}: ${n(a.flagged)} of ${n(a.total)} held-out digits flagged (${((100 * a.flagged) / a.total).toFixed(1)}%)` +
    (a.most.length ? `; most often ${a.most.map(([d, k]) => `${d}s (${k})`).join(', ')}.` : '.');
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const t0 = performance.now();
  handle(e.data);
  state.slowestMessageMs = Math.max(state.slowestMessageMs, performance.now() - t0);
};

function handle(msg: FromWorker): void {
  switch (msg.type) {
    case 'ready':
      status(`latent-wasm ${msg.version} · WebAssembly SIMD core (${msg.simd} build) in a Web Worker · loading the digits…`);
      return;
    case 'data':
      status($('status').textContent!.replace('loading the digits…', `${msg.trainRows.toLocaleString('en-US')} training and ${msg.testRows.toLocaleString('en-US')} held-out MNIST digits`));
      state.phase = 'idle';
      controls();
      return;
    case 'model':
      hasModel = true;
      state.curve = [];
      $('loss-name').textContent = msg.lossName;
      $('description').textContent = msg.description;
      $<HTMLSelectElement>('model').value = msg.settings.model;
      input('latentSize').value = String(msg.settings.latentSize);
      showFor(msg.kind);
      controls();
      return;
    case 'progress': {
      state.curve.push(...msg.points);
      const p = msg.progress;
      if (!p) return;
      bar((p.epoch - 1 + p.batch / p.batches) / p.epochs);
      $('progress-text').innerText =
        `Epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches}\n` +
        `${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s · loss ${p.loss.toPrecision(4)}`;
      return;
    }
    case 'views':
      state.views++;
      captions(msg.captions);
      return;
    case 'state':
      state.phase = msg.state;
      if (msg.state === 'done') bar(1);
      controls();
      return;
    case 'file': {
      const url = URL.createObjectURL(new Blob([msg.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = msg.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      return;
    }
    case 'inspected':
      inspected?.(msg.variances);
      inspected = null;
      return;
    case 'error':
      state.errors.push(msg.message);
      status(msg.message, true);
      console.error(msg.message);
      if (state.phase === 'training' || state.phase === 'loading') state.phase = hasModel ? 'paused' : 'idle';
      controls();
      return;
  }
}

function clear(): void {
  hasModel = false;
  state.curve = [];
  bar(0);
  $('progress-text').textContent = 'Not started';
  $('description').textContent = 'No model yet.';
  $('summary').hidden = true;
  $('flagged').textContent = '';
}

$<HTMLSelectElement>('model').addEventListener('change', () => {
  const kind = $<HTMLSelectElement>('model').value as ModelKind;
  input('hidden').value = DEFAULTS[kind].hidden;
  input('latentSize').value = String(DEFAULTS[kind].latentSize);
  showFor(kind);
});
$('start').addEventListener('click', () => {
  state.phase = 'training';
  state.slowestMessageMs = 0;
  controls();
  send({ type: 'start', settings: settings() });
});
$('pause').addEventListener('click', () => send({ type: 'pause' }));
$('reset').addEventListener('click', () => {
  clear();
  send({ type: 'reset' });
  controls();
});
$('save').addEventListener('click', () => send({ type: 'save' }));
input('open').addEventListener('change', async () => {
  const file = input('open').files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  input('open').value = '';
  clear();
  send({ type: 'open', bytes }, [bytes.buffer]);
});
input('quantile').addEventListener('input', () => {
  $('q-out').textContent = input('quantile').value;
  send({ type: 'threshold', quantile: Number(input('quantile').value) / 100 });
});
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(layout, 150);
});

$('legend').replaceChildren(
  ...DIGIT_COLORS.map((c, d) => {
    const span = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = c;
    span.append(swatch, String(d));
    return span;
  }),
);
showFor('autoencoder');
controls();
const canvases = Object.fromEntries(CANVASES.map((id) => [id, $<HTMLCanvasElement>(id).transferControlToOffscreen()]));
send({ type: 'canvases', canvases, dpr: window.devicePixelRatio || 1 }, Object.values(canvases));
layout();

// The digits (1.5 MB) load after the first paint: the page is drawn and usable first.
function loadDigits(): void {
  state.dataRequestedAt = performance.now();
  send({ type: 'load', url: new URL('mnist-digits.bin', document.baseURI).href });
}
if (PerformanceObserver.supportedEntryTypes?.includes('paint')) {
  const painted = new PerformanceObserver(() => {
    painted.disconnect();
    loadDigits();
  });
  painted.observe({ type: 'paint', buffered: true });
} else {
  requestAnimationFrame(() => setTimeout(loadDigits, 0));
}
