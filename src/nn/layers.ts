import { InputError } from '../errors.js';
import { ACTIVATIONS, DEFAULT_ALPHA, type ActivationName, type Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { initDense, type InitName } from './init.js';
import { Conv2d, ConvTranspose2d, Pool2d, Reshape, Upsample, type ConvLayerSpec } from './conv.js';
import { Dropout, type DropoutSpec } from './dropout.js';

/** A trainable tensor with its gradient, named as PyTorch names it (`encoder.0.weight`). */
export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: Tensor;
  readonly grad: Tensor;
}

/**
 * One step of a Sequential. Shapes are per sample (a dense layer's is [features], a conv
 * layer's [channels, height, width]); batches are `rows` samples stored one after another.
 * Buffers are sized by reserve(rows) and reused, so forward and backward allocate nothing.
 */
export interface Layer {
  readonly spec: LayerSpec;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** Values per sample in and out (products of the shapes). */
  readonly inSize: number;
  readonly outSize: number;
  /** How many torch.nn modules this layer stands for (a Linear + its activation: 2). */
  readonly modules: number;
  /** The activation applied last inside the layer ('linear' if none). */
  readonly activationName: ActivationName;
  /** The last forward's output, and its value before the activation (the same when linear):
   *  losses computed from logits read the latter. */
  readonly output: Tensor;
  readonly preActivation: Tensor;
  init(rng: Rng, name: InitName): void;
  reserve(rows: number): void;
  /** `training` is false for inference (dropout and other train-only behaviour off). */
  forward(x: Tensor, rows: number, training: boolean): Tensor;
  /** Given dL/dy (overwritten), writes parameter gradients and returns dL/dx, or null when no
   *  one needs it. `dyIsPreActivation`: dy is already dL/dz of the layer's own activation. */
  backward(dy: Tensor, rows: number, dyIsPreActivation: boolean): Tensor | null;
  params(): Param[];
  dispose(): void;
}

/** JSON description of a dense layer: the unit of the `layers` description a model is built from. */
export interface DenseSpec {
  type: 'dense';
  units: number;
  activation: ActivationName;
  /** leakyRelu slope / elu alpha; PyTorch's default when absent. */
  alpha?: number;
}

/** Every layer a model description can hold. (Other layer kinds add their spec here.) */
export type LayerSpec = DenseSpec | DropoutSpec | ConvLayerSpec;

/** Builds a layer from its spec; `needsInputGrad` is false only for a network's first layer. */
type LayerFactory = (k: Kernels, inShape: readonly number[], spec: LayerSpec, prefix: string, needsInputGrad: boolean) => Layer;

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

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
    this.act = ACTIVATIONS[spec.activation];
    this.alpha = spec.alpha ?? DEFAULT_ALPHA[spec.activation] ?? 0;
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

/**
 * Layers applied in order: one forward walk, one backward walk, one parameter list. Parameter
 * names count every module of the equivalent torch nn.Sequential, activations included
 * (Linear, ReLU, Linear → indices 0 and 2), so files move both ways with PyTorch.
 */
export class Sequential {
  readonly layers: Layer[] = [];

  constructor(
    k: Kernels,
    readonly inShape: readonly number[],
    specs: readonly LayerSpec[],
    readonly prefix: string,
    needsInputGrad: boolean,
  ) {
    let shape = inShape;
    let index = 0;
    try {
      for (const spec of specs) {
        const make = Object.hasOwn(LAYERS, spec?.type) ? LAYERS[spec.type] : undefined;
        if (!make) {
          throw new InputError(`${prefix}.${index}: unknown layer type ${JSON.stringify(spec?.type)}; expected one of ${Object.keys(LAYERS).join(', ')}`);
        }
        const layer = make(k, shape, spec, `${prefix}.${index}`, needsInputGrad || this.layers.length > 0);
        this.layers.push(layer);
        index += layer.modules;
        shape = layer.outShape;
      }
    } catch (e) {
      // a bad spec further down must not leak the parameters of the layers built before it
      this.dispose();
      throw e;
    }
  }

  get inSize(): number {
    return product(this.inShape);
  }

  get outSize(): number {
    return this.layers.length ? this.last.outSize : this.inSize;
  }

  get last(): Layer {
    return this.layers[this.layers.length - 1];
  }

  init(rng: Rng, name: InitName): void {
    for (const l of this.layers) l.init(rng, name);
  }

  reserve(rows: number): void {
    for (const l of this.layers) l.reserve(rows);
  }

  forward(x: Tensor, rows: number, training = false): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h, rows, training);
    return h;
  }

  /** Backpropagates dy (overwritten); returns dL/dx, or null if the first layer needs none. */
  backward(dy: Tensor, rows: number, dyIsPreActivation = false): Tensor | null {
    let g: Tensor | null = dy;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) {
      g = this.layers[i].backward(g, rows, dyIsPreActivation && i === this.layers.length - 1);
    }
    return g;
  }

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

/** The layer kinds a description can name. */
export const LAYERS: Record<LayerSpec['type'], LayerFactory> = {
  dense: (k, inShape, spec, prefix, needsInputGrad) => new Dense(k, inShape, spec as DenseSpec, prefix, needsInputGrad),
  dropout: (k, inShape, spec, _prefix, needsInputGrad) => new Dropout(k, inShape, spec as DropoutSpec, needsInputGrad),
  conv2d: (k, inShape, spec, prefix, g) => new Conv2d(k, inShape, spec as Extract<LayerSpec, { type: 'conv2d' }>, prefix, g),
  convTranspose2d: (k, inShape, spec, prefix, g) =>
    new ConvTranspose2d(k, inShape, spec as Extract<LayerSpec, { type: 'convTranspose2d' }>, prefix, g),
  maxPool2d: (k, inShape, spec, prefix, g) => new Pool2d(k, inShape, spec as Extract<LayerSpec, { type: 'maxPool2d' }>, prefix, g),
  avgPool2d: (k, inShape, spec, prefix, g) => new Pool2d(k, inShape, spec as Extract<LayerSpec, { type: 'avgPool2d' }>, prefix, g),
  upsample: (k, inShape, spec, prefix, g) => new Upsample(k, inShape, spec as Extract<LayerSpec, { type: 'upsample' }>, prefix, g),
  flatten: (k, inShape, spec, prefix, g) => new Reshape(k, inShape, spec as Extract<LayerSpec, { type: 'flatten' }>, prefix, g),
  reshape: (k, inShape, spec, prefix, g) => new Reshape(k, inShape, spec as Extract<LayerSpec, { type: 'reshape' }>, prefix, g),
};
