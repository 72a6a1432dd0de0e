import { InputError } from '../errors.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { Conv2d, ConvTranspose2d } from './conv.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import type { InitName } from './init.js';
import { product, type Layer, type LayerFactory, type Param } from './layer.js';
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
