import { InputError } from '../errors.js';
import type { Arena, Tensor } from './memory.js';

/**
 * A seeded Philox4x32-10 generator whose state lives in linear memory (assembly/random.ts).
 * Everything random in a model (init, shuffling, noise) draws from one of these, so the same
 * seed gives the same bits on every engine.
 */
export class Rng {
  private readonly state: Tensor;
  constructor(private readonly arena: Arena, seed: number) {
    checkSeed(seed);
    this.state = arena.alloc(8);
    arena.ex.rng_seed(this.state.offset, seed >>> 0, Math.floor(seed / 4294967296) >>> 0);
  }

  uniform(out: Tensor, lo: number, hi: number, n = out.size): void {
    this.arena.ex.f32_rand_uniform(this.state.offset, out.offset, n, lo, hi);
  }

  normal(out: Tensor, mean: number, std: number, n = out.size): void {
    this.arena.ex.f32_rand_normal(this.state.offset, out.offset, n, mean, std);
  }

  /** Writes a random permutation of 0..n−1 into the (i32) tensor out. */
  permutation(out: Tensor, n = out.size): void {
    this.arena.ex.rand_permutation(this.state.offset, out.offset, n);
  }

  /** The raw generator state (key and counter), e.g. to save and resume training exactly. */
  getState(): Uint32Array {
    return new Uint32Array(this.arena.i32(this.state));
  }

  setState(s: Uint32Array): void {
    this.arena.i32(this.state).set(new Int32Array(s.buffer, s.byteOffset, 8));
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
