import { RuntimeError } from '../errors.js';
import type { Arena, Tensor } from '../runtime/memory.js';

/** A trainable tensor with its gradient, named as PyTorch names it (`encoder.0.weight`); both
 *  are views into the model's flat buffers (ParamStore). */
export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: Tensor;
  readonly grad: Tensor;
}

/** Slots start on 16-value (64-byte) boundaries, as allocations do, so SIMD loads of a layer's
 *  weights stay aligned; the gap values are zero and stay zero (their gradient is zero, so every
 *  update rule leaves them at 0), so whole-buffer norms and checks are unaffected. */
const SLOT_ALIGN = 16;

class StoredParam implements Param {
  value!: Tensor;
  grad!: Tensor;
  constructor(readonly name: string, readonly shape: readonly number[], readonly start: number) {}
}

/**
 * Every parameter of a model in two flat buffers: `block` holds the values and, behind them,
 * `stateSlots` optimizer state buffers of the same layout; `grads` holds the gradients. Layers
 * declare their parameters with add() while they are built (nothing is allocated then, so a
 * model whose description fails to build leaks nothing) and get views into the buffers at
 * allocate(). An optimizer update, a gradient norm, a non-finite check or a snapshot of the
 * weights is then one kernel call over a buffer instead of one per tensor.
 */
export class ParamStore {
  private readonly list: StoredParam[] = [];
  /** Values per buffer segment (parameters with their alignment gaps). */
  size = 0;
  private blockTensor: Tensor | null = null;
  private gradTensor: Tensor | null = null;
  private slots = 0;

  constructor(private readonly arena: Arena) {}

  /** Declares a parameter; its value and grad exist after allocate(). */
  add(name: string, shape: readonly number[]): Param {
    if (this.blockTensor) throw new RuntimeError(`ParamStore.add(${name}): the store is already allocated`);
    const p = new StoredParam(name, shape, this.size);
    this.list.push(p);
    const n = shape.reduce((a, b) => a * b, 1);
    this.size += Math.ceil(n / SLOT_ALIGN) * SLOT_ALIGN;
    return p;
  }

  /** Allocates the buffers (zero-filled), with room for `stateSlots` optimizer buffers. */
  allocate(stateSlots = 0): void {
    if (this.blockTensor) throw new RuntimeError('ParamStore.allocate: already allocated');
    const a = this.arena;
    const block = a.alloc([1 + stateSlots, this.size]);
    let grads: Tensor;
    try {
      grads = a.alloc(this.size);
    } catch (e) {
      a.release(block);
      throw e;
    }
    this.blockTensor = block;
    this.gradTensor = grads;
    this.slots = stateSlots;
    for (const p of this.list) {
      p.value = a.view(block, p.start, p.shape);
      p.grad = a.view(grads, p.start, p.shape);
    }
  }

  get allocated(): boolean {
    return this.blockTensor !== null;
  }

  /** The declared parameters in order. */
  params(): readonly Param[] {
    return this.list;
  }

  /** Values and optimizer state: [1 + stateSlots, size]. */
  get block(): Tensor {
    return this.blockTensor!;
  }

  /** All parameter values. */
  get values(): Tensor {
    return this.arena.view(this.block, 0, [this.size]);
  }

  /** All gradients. */
  get grads(): Tensor {
    return this.gradTensor!;
  }

  get stateSlots(): number {
    return this.slots;
  }

  /** Optimizer state buffer s (0-based), laid out as the values. */
  state(s: number): Tensor {
    if (!(s >= 0 && s < this.slots)) throw new RuntimeError(`ParamStore.state: slot ${s} of ${this.slots}`);
    return this.arena.view(this.block, (1 + s) * this.size, [this.size]);
  }

  /** The part of state buffer s that belongs to parameter i. */
  stateOf(s: number, i: number): Tensor {
    const p = this.list[i];
    return this.arena.view(this.block, (1 + s) * this.size + p.start, p.shape);
  }

  dispose(): void {
    if (this.blockTensor) this.arena.release(this.blockTensor);
    if (this.gradTensor) this.arena.release(this.gradTensor);
    this.blockTensor = this.gradTensor = null;
  }
}
