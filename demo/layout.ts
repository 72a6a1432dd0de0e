// The size of every canvas of the page, from the width its card offers: the page sets the CSS
// boxes from it, the worker draws to it (demo/draw.ts).
import type { GridLayout } from './draw.js';

/** Held-out digits shown over their reconstructions, 10 per row. */
export const SHOWN = 20;
/** Side of the VAE's decoded latent grid. */
export const GRID = 12;
/** VAE samples, and interpolation steps between two held-out digits. */
export const SAMPLES = 16;
export const STEPS = 10;
/** The most unusual held-out digits shown in the anomaly view. */
export const RANKED = 30;

const GRIDS: Record<string, { count: number; cols: number; pad: number }> = {
  recon: { count: 2 * SHOWN, cols: 10, pad: 1 },
  denoise: { count: 2 * SHOWN, cols: 10, pad: 1 },
  grid: { count: GRID * GRID, cols: GRID, pad: 0 },
  samples: { count: SAMPLES, cols: 8, pad: 1 },
  interp: { count: STEPS, cols: 10, pad: 1 },
  ranked: { count: RANKED, cols: 10, pad: 1 },
};
const CHARTS: Record<string, number> = { loss: 240, scatter: 270, hist: 200 };

export const CANVASES = [...Object.keys(CHARTS), ...Object.keys(GRIDS)];

export interface CanvasBox {
  width: number;
  height: number;
  grid?: GridLayout;
}

/** The CSS box of canvas `id` given the width available to it. */
export function canvasBox(id: string, available: number): CanvasBox {
  const g = GRIDS[id];
  if (!g) return { width: Math.max(200, Math.floor(available)), height: CHARTS[id] };
  // the tiled grid's pixels (tileGrid's layout), scaled to the width available, at most 560 px
  const rows = Math.ceil(g.count / g.cols);
  const w = g.cols * (28 + g.pad) + g.pad;
  const h = rows * (28 + g.pad) + g.pad;
  const scale = Math.max(0.25, Math.min(available, 560) / w);
  return { width: Math.round(w * scale), height: Math.round(h * scale), grid: { cols: g.cols, pad: g.pad, scale } };
}
