import { checkInt } from '../data.js';
import { InputError, ShapeError } from '../errors.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import { where } from './geometry.js';
import { Plain, product } from './layer.js';
import type { FlattenSpec, ReshapeSpec } from './specs.js';

/**
 * Flatten and reshape: the values stay where they are (samples are contiguous), only the
 * per-sample shape changes, so forward returns its input and backward its dy. Nothing is owned.
 */
export class Reshape extends Plain {
  constructor(k: Kernels, inShape: readonly number[], readonly spec: FlattenSpec | ReshapeSpec, prefix: string, needsInputGrad: boolean) {
    const at = where(prefix, spec.type);
    const n = product(inShape);
    let shape: number[];
    if (spec.type === 'flatten') {
      shape = [n];
    } else {
      if (!Array.isArray(spec.shape) || spec.shape.length === 0) throw new InputError(`${at}: shape must be a non-empty array of sizes; got ${String(spec.shape)}`);
      shape = spec.shape.map((d, i) => checkInt(d, `${at}: shape[${i}]`, 1));
      if (product(shape) !== n) {
        throw new ShapeError(`${at}: cannot reshape [${inShape.join(', ')}] (${n} values) to [${shape.join(', ')}] (${product(shape)} values)`);
      }
    }
    super(k, inShape, shape, needsInputGrad);
  }

  reserve(_rows: number): void {}

  forward(x: Tensor, _rows: number, _training = false): Tensor {
    this.y = x;
    return x;
  }

  backward(dy: Tensor, _rows: number, _dyIsPreActivation = false): Tensor | null {
    return this.needsInputGrad ? dy : null;
  }

  dispose(): void {
    this.y = null;
  }
}
