import { InputError } from '../errors.js';
import { GENERATOR_STATE_SIZE, Kernels, type Generator } from './kernels.js';
import type { Arena, Tensor } from './memory.js';

/**
 * A seeded Philox4x32-10 generator whose state lives in linear memory (assembly/random.ts).
 * Everything random in a model (init, shuffling, noise) draws from one of these, so the same
 * seed gives the same bits on every engine. Its draws go through Kernels, like every call of the
 * core; the noise kernels take the generator itself (its `state` block) and advance it.
 */
export class Rng implements Generator {
  /** The state block (key and counter) in linear memory. */
  readonly state: Tensor;
  private readonly k: Kernels;
  constructor(private readonly arena: Arena, seed: number) {
    checkSeed(seed);
    this.k = new Kernels(arena);
    this.state = arena.alloc(GENERATOR_STATE_SIZE);
    this.k.rngSeed(this, seed);
  }

  uniform(out: Tensor, lo: number, hi: number, n = out.size): void {
    this.k.randUniform(this, out, n, lo, hi);
  }

  normal(out: Tensor, mean: number, std: number, n = out.size): void {
    this.k.randNormal(this, out, n, mean, std);
  }

  /** Writes a random permutation of 0..n−1 into the (i32) tensor out. */
  permutation(out: Tensor, n = out.size): void {
    this.k.randPermutation(this, out, n);
  }

  /** The raw generator state (key and counter), e.g. to save and resume training exactly. */
  getState(): Uint32Array {
    return new Uint32Array(this.arena.i32(this.state));
  }

  setState(s: Uint32Array): void {
    this.arena.i32(this.state).set(new Int32Array(s.buffer, s.byteOffset, GENERATOR_STATE_SIZE));
  }

  dispose(): void {
    this.arena.release(this.state);
  }
}

export function checkSeed(seed: unknown, what = 'seed'): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InputError(`${what} must be a non-negative safe integer, got ${String(seed)}`);
  }
}
