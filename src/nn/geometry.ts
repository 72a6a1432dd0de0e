// Shared by the layers over NCHW samples (conv, pooling, upsampling, reshape): how errors name a
// layer, per-axis sizes, and the [C, H, W] check.
import { checkInt } from '../data.js';
import { InputError, ShapeError } from '../errors.js';

/** "encoder.3 (conv2d)": how errors name a layer (its index in the equivalent nn.Sequential). */
export const where = (prefix: string, type: string) => `${prefix} (${type})`;

export function size2(v: unknown, what: string, min: number, fallback?: [number, number]): [number, number] {
  if (v === undefined && fallback) return fallback;
  if (Array.isArray(v)) {
    if (v.length !== 2) throw new InputError(`${what} must be a number or [height, width]; got [${v.join(', ')}]`);
    return [checkInt(v[0], `${what}[0]`, min), checkInt(v[1], `${what}[1]`, min)];
  }
  const n = checkInt(v, what, min);
  return [n, n];
}

/** [C, H, W], or a ShapeError naming the layer. */
export function chw(inShape: readonly number[], at: string): [number, number, number] {
  if (inShape.length !== 3) {
    throw new ShapeError(`${at}: expects per-sample inputs [channels, height, width]; got [${inShape.join(', ')}] (add a reshape first)`);
  }
  return [inShape[0], inShape[1], inShape[2]];
}
