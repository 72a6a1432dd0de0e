// Plain canvas charts: a line chart, digit grids, a scatter and a histogram, drawn by the worker
// on OffscreenCanvases the page handed over, so drawing never runs on the page's main thread.
// Each is a few dozen lines and adds nothing to install; a chart library would weigh more than
// the page's own code and the library together, and most need a DOM to draw.

/** Tableau 10: ten categorical colours that stay distinct for the common colour-vision deficiencies. */
export const DIGIT_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const INK = '#1f2933';
const MUTED = '#7b8794';
const GRIDLINE = '#e4e7eb';
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

type Ctx = OffscreenCanvasRenderingContext2D;

/** The page's canvas on its CSS box (`width` × `height`) at the device's pixel ratio. */
export interface Target {
  canvas: OffscreenCanvas;
  width: number;
  height: number;
  dpr: number;
}

/** Sizes the canvas for the device's pixel ratio and returns a cleared context in CSS pixels. */
export function context({ canvas, width, height, dpr }: Target): Ctx {
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  return ctx;
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (a >= 0.01) return String(Number(v.toPrecision(3)));
  return v.toExponential(1);
}

interface Frame {
  ctx: Ctx;
  x: (v: number) => number;
  y: (v: number) => number;
}

/** Axes with gridlines and labelled ticks; returns the data → pixel maps. */
function frame(
  ctx: Ctx, width: number, height: number,
  [x0, x1]: [number, number], [y0, y1]: [number, number], xLabel: string, yLabel: string,
): Frame {
  const left = 52;
  const right = width - 12;
  const top = 12;
  const bottom = height - 34;
  const x = (v: number) => left + ((v - x0) / (x1 - x0 || 1)) * (right - left);
  const y = (v: number) => bottom - ((v - y0) / (y1 - y0 || 1)) * (bottom - top);
  ctx.lineWidth = 1;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const t of ticks(y0, y1, 4)) {
    ctx.strokeStyle = GRIDLINE;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y(t)) + 0.5);
    ctx.lineTo(right, Math.round(y(t)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = MUTED;
    ctx.fillText(fmt(t), left - 6, y(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of ticks(x0, x1, 5)) ctx.fillText(fmt(t), x(t), bottom + 5);
  ctx.strokeStyle = MUTED;
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top);
  ctx.lineTo(left + 0.5, bottom + 0.5);
  ctx.lineTo(right, bottom + 0.5);
  ctx.stroke();
  ctx.fillStyle = INK;
  ctx.fillText(xLabel, (left + right) / 2, bottom + 20);
  ctx.save();
  ctx.translate(12, (top + bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
  return { ctx, x, y };
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

export function lineChart(t: Target, series: Series[], xLabel: string, yLabel: string): void {
  const ctx = context(t);
  const { width, height } = t;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const pad = (yMax - yMin) * 0.08 || Math.abs(yMax) * 0.1 || 1;
  const f = frame(ctx, width, height, [0, Math.max(1, ...xs)], [Math.max(0, yMin - pad), yMax + pad], xLabel, yLabel);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach(([px, py], i) => (i ? ctx.lineTo(f.x(px), f.y(py)) : ctx.moveTo(f.x(px), f.y(py))));
    ctx.stroke();
    for (const [px, py] of s.points.length < 40 ? s.points : []) {
      ctx.beginPath();
      ctx.arc(f.x(px), f.y(py), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  // legend, top right, with the latest value of each series
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  let lx = width - 16;
  for (const s of [...series].reverse()) {
    const last = s.points.at(-1);
    const text = last ? `${s.name} ${fmt(last[1])}` : s.name;
    ctx.fillStyle = INK;
    ctx.fillText(text, lx, 22);
    lx -= ctx.measureText(text).width + 8;
    ctx.fillStyle = s.color;
    ctx.fillRect(lx - 12, 20, 12, 4);
    lx -= 26;
  }
}

/** Where each digit of a grid goes: `cols` per row, `cell` CSS pixels each, `gap` between. */
export interface GridLayout {
  cols: number;
  cell: number;
  gap: number;
}

/** 28×28 digits (values in [0, 1], or indices into `values`), white ink on black as MNIST is
 *  usually shown; `outline` may frame some of them. */
export function digitGrid(
  t: Target, { cols, cell, gap }: GridLayout, images: ArrayLike<number>, count: number,
  options: { values?: ArrayLike<number>; outline?: (i: number) => string | null } = {},
): void {
  const ctx = context(t);
  const tile = new ImageData(28, 28);
  const scratch = new OffscreenCanvas(28, 28);
  const sctx = scratch.getContext('2d')!;
  ctx.imageSmoothingEnabled = cell % 28 !== 0;
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 784; p++) {
      const raw = images[i * 784 + p];
      const v = options.values ? options.values[raw] : raw;
      const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
      tile.data[4 * p] = tile.data[4 * p + 1] = tile.data[4 * p + 2] = g;
      tile.data[4 * p + 3] = 255;
    }
    sctx.putImageData(tile, 0, 0);
    const x = (i % cols) * (cell + gap);
    const y = Math.floor(i / cols) * (cell + gap);
    ctx.drawImage(scratch, x, y, cell, cell);
    const outline = options.outline?.(i);
    if (outline) {
      ctx.strokeStyle = outline;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, cell - 2, cell - 2);
    }
  }
}

/** Points (x, y pairs) coloured by digit label. */
export function scatter(t: Target, xy: Float32Array, labels: Uint8Array, xLabel: string, yLabel: string): void {
  const ctx = context(t);
  const { width, height } = t;
  const n = labels.length;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, xy[2 * i]);
    x1 = Math.max(x1, xy[2 * i]);
    y0 = Math.min(y0, xy[2 * i + 1]);
    y1 = Math.max(y1, xy[2 * i + 1]);
  }
  const px = (x1 - x0) * 0.04 || 1;
  const py = (y1 - y0) * 0.04 || 1;
  const f = frame(ctx, width, height, [x0 - px, x1 + px], [y0 - py, y1 + py], xLabel, yLabel);
  ctx.globalAlpha = 0.75;
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = DIGIT_COLORS[labels[i]];
    ctx.fillRect(f.x(xy[2 * i]) - 1.5, f.y(xy[2 * i + 1]) - 1.5, 3, 3);
  }
  ctx.globalAlpha = 1;
}

/** A histogram of scores with the threshold marked; bins above it in the alert colour. */
export function histogram(t: Target, scores: Float32Array, threshold: number, xLabel: string): void {
  const ctx = context(t);
  const { width, height } = t;
  const bins = 40;
  const lo = 0;
  let hi = 0;
  for (const s of scores) hi = Math.max(hi, s);
  hi = hi || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const s of scores) counts[Math.min(bins - 1, Math.floor(((s - lo) / (hi - lo)) * bins))]++;
  const f = frame(ctx, width, height, [lo, hi], [0, Math.max(...counts) * 1.05], xLabel, 'digits');
  const w = (hi - lo) / bins;
  for (let b = 0; b < bins; b++) {
    const a = lo + b * w;
    ctx.fillStyle = a + w / 2 >= threshold ? '#e15759' : '#4e79a7';
    const x = f.x(a) + 0.5;
    ctx.fillRect(x, f.y(counts[b]), Math.max(1, f.x(a + w) - x - 1), f.y(0) - f.y(counts[b]));
  }
  ctx.strokeStyle = INK;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(f.x(threshold)) + 0.5, f.y(0));
  ctx.lineTo(Math.round(f.x(threshold)) + 0.5, 12);
  ctx.stroke();
  ctx.setLineDash([]);
}
