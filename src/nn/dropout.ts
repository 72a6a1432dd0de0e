import { InputError } from '../errors.js';
import type { ActivationName, Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { Layer, Param } from './layer.js';
import type { DropoutSpec } from './specs.js';

export function checkDropoutSpec(spec: { rate?: unknown }, what: string): void {
  const r = spec.rate;
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r >= 1) {
    throw new InputError(`${what}.rate must be a number in [0, 1); got ${String(r)}`);
  }
}

/**
 * torch.nn.Dropout: in training, y = x ⊙ m / (1 − rate) with m ~ Bernoulli(1 − rate) drawn in the
 * core from the model's seeded generator (one generator call per forward); in inference, y = x.
 * It has no parameters but counts as one module in PyTorch's numbering.
 */
export class Dropout implements Layer {
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly inSize: number;
  readonly modules = 1;
  readonly activationName: ActivationName = 'linear';
  private mask: Tensor | null = null;
  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  private last: Tensor | null = null;
  /** Whether the last forward applied a mask (training with rate > 0). */
  private masked = false;
  private rng: Rng | null = null;
  private capacity = 0;

  constructor(
    private readonly k: Kernels,
    inShape: readonly number[],
    readonly spec: DropoutSpec,
    private readonly needsInputGrad: boolean,
  ) {
    checkDropoutSpec(spec, 'dropout');
    this.inShape = inShape;
    this.outShape = inShape;
    this.inSize = inShape.reduce((a, b) => a * b, 1);
  }

  get outSize(): number {
    return this.inSize;
  }

  get output(): Tensor {
    return this.last!;
  }

  get preActivation(): Tensor {
    return this.last!;
  }

  /** Dropout has no weights; it keeps the model's generator for its masks. */
  init(rng: Rng): void {
    this.rng = rng;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    const a = this.k.arena;
    this.mask = a.alloc(rows * this.inSize);
    this.y = a.alloc(rows * this.inSize);
    if (this.needsInputGrad) this.dx = a.alloc(rows * this.inSize);
    this.capacity = rows;
  }

  forward(x: Tensor, rows: number, training: boolean): Tensor {
    this.masked = training && this.spec.rate > 0;
    if (!this.masked) return (this.last = x);
    if (!this.rng) throw new InputError('a dropout layer needs init(rng) before training');
    this.k.dropout(this.rng, x, this.mask!, this.y!, rows * this.inSize, this.spec.rate);
    return (this.last = this.y!);
  }

  backward(dy: Tensor, rows: number): Tensor | null {
    if (!this.dx) return null;
    const n = rows * this.inSize;
    if (this.masked) this.k.mul(dy, this.mask!, this.dx, n);
    else this.k.copy(dy, this.dx, n);
    return this.dx;
  }

  params(): Param[] {
    return [];
  }

  dispose(): void {
    this.releaseBuffers();
  }

  private releaseBuffers(): void {
    const a = this.k.arena;
    for (const t of [this.mask, this.y, this.dx]) if (t) a.release(t);
    this.mask = this.y = this.dx = this.last = null;
    this.capacity = 0;
  }
}
