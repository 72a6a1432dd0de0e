import { ACTIVATIONS, type ActivationName, type Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { layerActivation } from './activation.js';
import { initDense, type InitName } from './init.js';
import { product, type Layer, type Param } from './layer.js';
import type { DenseSpec } from './specs.js';

/**
 * y = f(x·Wᵀ + b) with PyTorch's layout W[out, in]. Forward is one GEMM (nt) plus the fused
 * bias+activation epilogue; backward is the activation derivative, dW = dZᵀ·X (tn), db = Σ dZ,
 * and dX = dZ·W (nn) unless the layer is first and no one needs dX.
 * Buffers are sized for `capacity` rows and reused: steps allocate nothing.
 *
 * Inference on a few rows (batch-1) multiplies by a packed copy of W instead (32-column panels,
 * see assembly/gemm.ts; one more W-sized tensor, allocated by reserve(), so forward still
 * allocates nothing): the same bits as the GEMM, so results do not depend on the path. W may
 * change after backward() (an optimizer step follows it), init() and params() (how optimizers
 * and loaders reach W); the copy is then stale and remade at the second small inference forward
 * since, so evaluating between training steps does not pay for packing each time.
 */
export class Dense implements Layer {
  readonly weight: Param;
  readonly bias: Param;
  readonly act: number;
  readonly alpha: number;
  /** Pre-activation z and output y (the same tensor when the activation is linear). */
  private z: Tensor | null = null;
  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  private input: Tensor | null = null;
  private capacity = 0;
  /** Packed copy of W for small-batch inference; whether it matches W; small forwards since W
   *  last changed. */
  private panels: Tensor | null = null;
  private panelsValid = false;
  private smallForwards = 0;

  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly inSize: number;
  readonly modules: number;

  constructor(
    private readonly k: Kernels,
    inShape: readonly number[],
    readonly spec: DenseSpec,
    /** Index of this Linear inside the equivalent torch nn.Sequential, with its prefix. */
    prefix: string,
    private readonly needsInputGrad: boolean,
  ) {
    const { units } = spec;
    const a = k.arena;
    // a dense layer flattens whatever comes in, as torch.nn.Linear after nn.Flatten
    this.inShape = inShape;
    this.inSize = product(inShape);
    this.outShape = [units];
    this.modules = spec.activation === 'linear' ? 1 : 2;
    const inSize = this.inSize;
    const { act, alpha } = layerActivation(spec, prefix);
    this.act = act;
    this.alpha = alpha;
    this.weight = { name: `${prefix}.weight`, shape: [units, inSize], value: a.alloc(units * inSize), grad: a.alloc(units * inSize) };
    this.bias = { name: `${prefix}.bias`, shape: [units], value: a.alloc(units), grad: a.alloc(units) };
  }

  get outSize(): number {
    return this.spec.units;
  }

  get activationName(): ActivationName {
    return this.spec.activation;
  }

  init(rng: Rng, name: InitName): void {
    this.weightChanged();
    initDense(this.k, rng, name, this.weight.value, this.bias.value, this.inSize, this.outSize);
  }

  /** Makes room for batches of up to `rows` rows. */
  reserve(rows: number): void {
    // Any batch size: models reserve their largest batch once, and infer single rows after.
    if (!this.panels) {
      this.panels = this.k.arena.alloc(this.k.ntPanelsSize(this.outSize, this.inSize));
      this.panelsValid = false;
    }
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    const a = this.k.arena;
    this.z = a.alloc(rows * this.outSize);
    this.y = this.act === ACTIVATIONS.linear ? this.z : a.alloc(rows * this.outSize);
    if (this.needsInputGrad) this.dx = a.alloc(rows * this.inSize);
    this.capacity = rows;
  }

  forward(x: Tensor, rows: number, training = false): Tensor {
    const z = this.z!;
    this.input = x;
    const panels = this.panels;
    if (panels && !training && rows <= Dense.PANEL_ROWS && (this.panelsValid || ++this.smallForwards >= 2)) {
      if (!this.panelsValid) {
        this.k.packNtPanels(this.outSize, this.inSize, this.weight.value, panels);
        this.panelsValid = true;
      }
      this.k.gemmNtPanels(rows, this.outSize, this.inSize, x, panels, z);
    } else {
      this.k.gemm('nt', rows, this.outSize, this.inSize, x, this.weight.value, z);
    }
    this.k.biasAct(this.act, this.alpha, z, this.bias.value, this.y!, rows, this.outSize);
    return this.y!;
  }

  /** Up to this many rows, inference reads the packed W: faster than gemm nt at 1–32 rows (3× at
   *  1 row; 5–15% at 32), about even at 48–64. */
  private static readonly PANEL_ROWS = 32;

  private weightChanged(): void {
    this.panelsValid = false;
    this.smallForwards = 0;
  }

  /** Output y of the last forward. */
  get output(): Tensor {
    return this.y!;
  }

  /** Pre-activation of the last forward (the logits, for losses computed from them). */
  get preActivation(): Tensor {
    return this.z!;
  }

  /**
   * Given dL/dy (or dL/dz when `dyIsPreActivation`, as a loss from logits gives it), writes the
   * parameter gradients and returns dL/dx (null for a first layer). dy is overwritten.
   */
  backward(dy: Tensor, rows: number, dyIsPreActivation = false): Tensor | null {
    const n = rows * this.outSize;
    this.weightChanged(); // the optimizer step that follows changes W
    if (!dyIsPreActivation && this.act !== ACTIVATIONS.linear) {
      this.k.actBackward(this.act, this.alpha, this.z!, this.y!, dy, dy, n);
    }
    this.k.gemm('tn', this.outSize, this.inSize, rows, dy, this.input!, this.weight.grad);
    this.k.colSum(dy, this.bias.grad, rows, this.outSize);
    if (!this.dx) return null;
    this.k.gemm('nn', rows, this.inSize, this.outSize, dy, this.weight.value, this.dx);
    return this.dx;
  }

  params(): Param[] {
    this.weightChanged(); // the caller may write W
    return [this.weight, this.bias];
  }

  dispose(): void {
    this.releaseBuffers();
    const a = this.k.arena;
    if (this.panels) a.release(this.panels);
    this.panels = null;
    for (const p of this.params()) {
      a.release(p.value);
      a.release(p.grad);
    }
  }

  private releaseBuffers(): void {
    const a = this.k.arena;
    if (this.y && this.y !== this.z) a.release(this.y);
    if (this.z) a.release(this.z);
    if (this.dx) a.release(this.dx);
    this.z = this.y = this.dx = this.input = null;
    this.capacity = 0;
  }
}

