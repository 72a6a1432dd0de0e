// `latent-wasm/internal`: the explicit entry for the project's own benchmarks and profilers
// (bench/), so that they reach the core the way the library does, through Kernels, and never
// through a model's protected fields. Not part of the public API: no compatibility promise.
import { arena } from './runtime/context.js';
import type { AnyKernel, KernelName } from './runtime/abi.js';
import { Kernels } from './runtime/kernels.js';

export { arena, liveTensors } from './runtime/context.js';
export { Kernels, type GemmVariant } from './runtime/kernels.js';
export { KERNELS, ACTIVATIONS, activationGlobal, type KernelName, type ActivationName } from './runtime/abi.js';
export type { Arena, Tensor } from './runtime/memory.js';

/** Kernels over the shared arena (the one every model uses); needs `await init()` first. */
export function kernels(): Kernels {
  return new Kernels(arena());
}

/** Bytes of linear memory the core has now (grows, never shrinks). */
export function memoryBytes(): number {
  return arena().memoryBytes();
}

/** Tasks the thread pool's workers have run (0 without a pool): proof that products were split. */
export function poolWorkerTasks(): number {
  return arena().pool?.workerTasks() ?? 0;
}

/**
 * Routes every kernel call of the shared arena (every model's, and `kernels()`') through
 * `wrap(name, kernel)`, which returns the function to call instead, until the returned function
 * is called. For profilers: bench/profile.mjs times each kernel this way. Only kernels of the
 * table are wrapped; the memory is the module's own.
 */
export function traceKernels(wrap: (name: KernelName, kernel: AnyKernel) => AnyKernel): () => void {
  return arena().wrapKernels(wrap);
}
