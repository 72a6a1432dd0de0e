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

const GRIDS: Record<string, { count: number; cols: number; gap: number }> = {
  recon: { count: 2 * SHOWN, cols: 10, gap: 2 },
  denoise: { count: 2 * SHOWN, cols: 10, gap: 2 },
  grid: { count: GRID * GRID, cols: GRID, gap: 0 },
  samples: { count: SAMPLES, cols: 8, gap: 2 },
  interp: { count: STEPS, cols: 10, gap: 2 },
  ranked: { count: RANKED, cols: 10, gap: 2 },
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
  const cell = Math.max(8, Math.floor((Math.min(available, 560) - (g.cols - 1) * g.gap) / g.cols));
  const rows = Math.ceil(g.count / g.cols);
  return {
    width: g.cols * cell + (g.cols - 1) * g.gap,
    height: rows * cell + (rows - 1) * g.gap,
    grid: { cols: g.cols, cell, gap: g.gap },
  };
}
