// The exported ABI of latent-wasm's numeric core.
//
// Conventions, shared by every kernel:
// - Pointers are byte offsets into linear memory (usize), aligned to 16 bytes by the TS Arena.
//   Sizes are element counts (i32). All tensors are f32, row-major and contiguous, except the
//   int8 path's quantized operands (int8.ts: i16 activations, i8 weight panels).
// - Kernels never allocate. Scratch space (GEMM packing panels) is static data in this module
//   (a worker of the threaded builds points its instance at its own block: parallel.ts).
// - The hot loops run on f32x4; a scalar tail handles sizes that are not multiples of 4 and uses
//   the same arithmetic as one SIMD lane, so an element's result never depends on its position.
// - Sums that are returned (losses, norms) accumulate in f64 and return f64.
// - Activation ids (ACT_*) and their constants live in activations.ts, exported as globals.
// - Every export is listed once in src/runtime/abi.ts (the kernel table, with argument names);
//   test/abi.test.ts checks table, signatures here and each build's exports against each other.
// - Builds: `release` (plain SIMD128, bit-identical on every engine), `relaxed` (relaxed-simd
//   FMA via ASC_FEATURE_RELAXED_SIMD, see simd.ts) and `debug` (release's code with asserts on:
//   preconditions checked under `if (!ASC_NO_ASSERT)`, so the release builds stay unchanged).
//   `threads` and `threads-relaxed` (index-threads.ts) add a thread pool on shared memory.

export { f32_gemm_nn, f32_gemm_nt, f32_gemm_tn, f32_pack_nt_panels, f32_gemm_nt_panels } from './gemm';
export * from './elementwise';
export * from './activations';
export { f32_loss_mse, f32_loss_l1, f32_loss_bce_sigmoid, f32_row_mse, f32_loss_kl_normal, f32_penalty_l1, f32_penalty_kl_sparsity } from './losses';
export * from './optimizers';
export * from './random';
export * from './noise';
export * from './conv';
export * from './int8';

/** First free byte after this module's static data: the TS Arena allocates from here. */
export function heap_base(): usize {
  return __heap_base;
}
