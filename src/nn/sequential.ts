import { InputError } from '../errors.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { Conv2d, ConvTranspose2d } from './conv.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import type { InitName } from './init.js';
import { product, type Layer, type LayerFactory, type Param } from './layer.js';
import { ParamStore } from './params.js';
import { Pool2d } from './pool.js';
import { Reshape } from './reshape.js';
import type { DenseSpec, DropoutSpec, LayerSpec } from './specs.js';
import { Upsample } from './upsample.js';

/**
 * Layers applied in order: one forward walk, one backward walk, one parameter list. Parameter
 * names count every module of the equivalent torch nn.Sequential, activations included
 * (Linear, ReLU, Linear → indices 0 and 2), so files move both ways with PyTorch.
 */
export class Sequential {
  readonly layers: Layer[] = [];
  /** The store this network made for itself when none was given (then it allocates and frees it). */
  private readonly ownStore: ParamStore | null;

  /**
   * Builds the layers, declaring their parameters in `store` (a model's, allocated by the model
   * once all its networks exist). Without a store the network has its own, allocated here.
   * Building allocates nothing before every layer is built, so a bad spec leaks nothing.
   */
  constructor(
    k: Kernels,
    readonly inShape: readonly number[],
    specs: readonly LayerSpec[],
    readonly prefix: string,
    needsInputGrad: boolean,
    store?: ParamStore,
  ) {
    const own = store ? null : new ParamStore(k.arena);
    let shape = inShape;
    let index = 0;
    for (const spec of specs) {
      const make = Object.hasOwn(LAYERS, spec?.type) ? LAYERS[spec.type] : undefined;
      if (!make) {
        throw new InputError(`${prefix}.${index}: unknown layer type ${JSON.stringify(spec?.type)}; expected one of ${Object.keys(LAYERS).join(', ')}`);
      }
      const layer = make(k, shape, spec, `${prefix}.${index}`, needsInputGrad || this.layers.length > 0, (store ?? own)!);
      this.layers.push(layer);
      index += layer.modules;
      shape = layer.outShape;
    }
    own?.allocate();
    this.ownStore = own;
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
    this.ownStore?.dispose();
  }
}

/** The layer kinds a description can name. */
export const LAYERS: Record<LayerSpec['type'], LayerFactory> = {
  dense: (k, inShape, spec, prefix, needsInputGrad, store) => new Dense(k, inShape, spec as DenseSpec, prefix, needsInputGrad, store),
  dropout: (k, inShape, spec, _prefix, needsInputGrad) => new Dropout(k, inShape, spec as DropoutSpec, needsInputGrad),
  conv2d: (k, inShape, spec, prefix, g, store) => new Conv2d(k, inShape, spec as Extract<LayerSpec, { type: 'conv2d' }>, prefix, g, store),
  convTranspose2d: (k, inShape, spec, prefix, g, store) =>
    new ConvTranspose2d(k, inShape, spec as Extract<LayerSpec, { type: 'convTranspose2d' }>, prefix, g, store),
  maxPool2d: (k, inShape, spec, prefix, g) => new Pool2d(k, inShape, spec as Extract<LayerSpec, { type: 'maxPool2d' }>, prefix, g),
  avgPool2d: (k, inShape, spec, prefix, g) => new Pool2d(k, inShape, spec as Extract<LayerSpec, { type: 'avgPool2d' }>, prefix, g),
  upsample: (k, inShape, spec, prefix, g) => new Upsample(k, inShape, spec as Extract<LayerSpec, { type: 'upsample' }>, prefix, g),
  flatten: (k, inShape, spec, prefix, g) => new Reshape(k, inShape, spec as Extract<LayerSpec, { type: 'flatten' }>, prefix, g),
  reshape: (k, inShape, spec, prefix, g) => new Reshape(k, inShape, spec as Extract<LayerSpec, { type: 'reshape' }>, prefix, g),
};
