import type { ActivationName, Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { InitName } from './init.js';
import type { Param, ParamStore } from './params.js';
import type { LayerSpec } from './specs.js';

export type { Param };

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

/** Builds a layer from its spec; `needsInputGrad` is false only for a network's first layer;
 *  parameters are declared in `store`. */
export type LayerFactory = (
  k: Kernels, inShape: readonly number[], spec: LayerSpec, prefix: string, needsInputGrad: boolean, store: ParamStore,
) => Layer;

/** Values in a tensor of this shape. */
export const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A layer without parameters or activation. */
export abstract class Plain implements Layer {
  abstract readonly spec: LayerSpec;
  readonly modules = 1;
  readonly activationName: ActivationName = 'linear';
  readonly inSize: number;
  readonly outSize: number;
  protected y: Tensor | null = null;

  constructor(
    protected readonly k: Kernels,
    readonly inShape: readonly number[],
    readonly outShape: readonly number[],
    protected readonly needsInputGrad: boolean,
  ) {
    this.inSize = product(inShape);
    this.outSize = product(outShape);
  }

  abstract reserve(rows: number): void;
  abstract forward(x: Tensor, rows: number, training: boolean): Tensor;
  abstract backward(dy: Tensor, rows: number, dyIsPreActivation: boolean): Tensor | null;
  abstract dispose(): void;

  init(_rng: Rng, _name: InitName): void {}

  get output(): Tensor {
    return this.y!;
  }

  get preActivation(): Tensor {
    return this.y!;
  }

  params(): Param[] {
    return [];
  }
}

