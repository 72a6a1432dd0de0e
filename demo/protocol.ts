// Messages between the page (main.ts) and the worker (worker.ts). The page hands its canvases
// over once (OffscreenCanvas) and keeps only the controls and a few lines of text; the worker
// owns the digits and the model, trains, and draws.

export type ModelKind = 'autoencoder' | 'denoising' | 'sparse' | 'vae' | 'conv';

export interface Settings {
  model: ModelKind;
  /** Dense models: encoder widths (the decoder mirrors them). Conv: output channels per conv. */
  hidden: number[];
  latentSize: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Denoising: std of the Gaussian input noise. */
  noiseStd: number;
  /** Sparse: weight of the L1 penalty on the code. */
  sparsityL1: number;
  /** VAE: weight of the KL term. */
  beta: number;
}

export type ToWorker =
  | { type: 'canvases'; canvases: Record<string, OffscreenCanvas>; dpr: number }
  /** The width each canvas has on the page (CSS pixels); sent again on resize. */
  | { type: 'layout'; available: Record<string, number> }
  | { type: 'load'; url: string }
  | { type: 'start'; settings: Settings }
  | { type: 'pause' }
  | { type: 'reset' }
  | { type: 'save' }
  | { type: 'open'; bytes: Uint8Array }
  /** The anomaly threshold as a quantile of the scores (0.5 … 0.995). */
  | { type: 'threshold'; quantile: number }
  /** Asks for the pixel variance of every canvas (the end-to-end test checks none is blank). */
  | { type: 'inspect' };

export interface Progress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  samplesPerSecond: number;
  loss: number;
}

/** Loss points; x in epochs (fractional). */
export interface CurvePoint {
  x: number;
  train?: number;
  val?: number;
}

/** The text that goes with the pictures. */
export interface Captions {
  /** What the scatter's axes are: the code itself at latent size 2, else its principal axes. */
  twoD: boolean;
  latentSize: number;
  summary?: string;
  anomaly: {
    threshold: number;
    flagged: number;
    total: number;
    /** The digits flagged most often: [digit, count]. */
    most: [number, number][];
    /** The calibrate() call behind the threshold. */
    rule: string;
  };
}

export type FromWorker =
  | { type: 'ready'; simd: string; version: string }
  | { type: 'data'; trainRows: number; testRows: number }
  | { type: 'model'; kind: ModelKind; description: string; lossName: string; settings: Settings }
  /** Progress, with the loss points since the last message (batched: one main-thread task). */
  | { type: 'progress'; progress: Progress | null; points: CurvePoint[] }
  | { type: 'views'; captions: Captions }
  | { type: 'state'; state: 'training' | 'paused' | 'done' | 'idle' }
  | { type: 'file'; bytes: Uint8Array; name: string }
  | { type: 'inspected'; variances: Record<string, number> }
  | { type: 'error'; message: string };
