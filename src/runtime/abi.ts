/**
 * The kernel table: every export of the WebAssembly core (assembly/index.ts) with its argument
 * names, written once. `CoreExports` (what the TS layer may call) is derived from it, and
 * test/abi.test.ts checks it against the exports of the strict, relaxed and debug builds (name,
 * kind, arity, result type): nothing missing, nothing extra. Adding a kernel is one line here plus
 * its wrapper in kernels.ts.
 *
 * Pointers are byte offsets into linear memory; sizes are element counts; flags are 0/1 (i32).
 * Everything here is raw: argument checks live once, in kernels.ts and the layers above it.
 * No DOM or WebAssembly lib types appear here: the published .d.ts compiles in a Node-only
 * project (`"lib": ["ES2022"]`), so the memory is described structurally.
 */

/** What a kernel returns: nothing, an i32 (counts, offsets) or an f64 (sums). */
export type KernelResult = 'void' | 'i32' | 'f64';

export interface KernelSignature<A extends readonly string[] = readonly string[], R extends KernelResult = KernelResult> {
  readonly args: A;
  readonly result: R;
}

const fn = <const A extends readonly string[], R extends KernelResult = 'void'>(args: A, result?: R): KernelSignature<A, R> =>
  ({ args, result: result ?? 'void' }) as KernelSignature<A, R>;

const GEMM = ['m', 'n', 'k', 'a', 'b', 'c', 'accumulate'] as const;
const CONV_WINDOW = ['c', 'h', 'w', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw', 'oh', 'ow', 'rowStride', 'sampleStride'] as const;
const POOL = ['planes', 'h', 'w', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'oh', 'ow'] as const;
const LOSS = ['pred', 'target', 'grad', 'n', 'gscale'] as const;

export const KERNELS = {
  /** First free byte after the module's static data: the Arena allocates from here. */
  heap_base: fn([], 'i32'),

  // gemm.ts: C[m×n] = (accumulate ? C : 0) + op(A)·op(B), row-major, contiguous.
  /** A [m×k], B [k×n]. */
  f32_gemm_nn: fn(GEMM),
  /** A [m×k], B [n×k] (B transposed: y = x·Wᵀ with PyTorch's W[out, in]). */
  f32_gemm_nt: fn(GEMM),
  /** A [k×m] (A transposed: dW = dYᵀ·X), B [k×n]. */
  f32_gemm_tn: fn(GEMM),
  /** Packs B [n×k] into 32-column panels at dst (ceil(n/32)·32·k floats) for f32_gemm_nt_panels. */
  f32_pack_nt_panels: fn(['n', 'k', 'b', 'dst']),
  /** f32_gemm_nt from B's panels: the same bits, faster for small m (batch-1 inference). */
  f32_gemm_nt_panels: fn(['m', 'n', 'k', 'a', 'panels', 'c', 'accumulate']),

  // elementwise.ts
  /** y[i, j] += bias[j] for an [m×n] y. */
  f32_bias_add: fn(['y', 'bias', 'm', 'n']),
  /** out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j] for an [m×n] x. */
  f32_col_sum: fn(['x', 'out', 'm', 'n', 'accumulate']),
  /** y += alpha·x. */
  f32_axpy: fn(['n', 'alpha', 'x', 'y']),
  /** x *= alpha, in place. */
  f32_scale: fn(['n', 'alpha', 'x']),
  f32_copy: fn(['n', 'src', 'dst']),
  f32_fill: fn(['n', 'value', 'dst']),
  /** x = min(max(x, lo), hi), in place; returns how many x were NaN or ±Infinity before. */
  f32_clamp: fn(['n', 'lo', 'hi', 'x'], 'i32'),
  /** Σ x², accumulated in f64. */
  f32_sum_sq: fn(['n', 'x'], 'f64'),
  /** How many of the n values are NaN or ±Infinity. */
  f32_count_nonfinite: fn(['n', 'x'], 'i32'),

  // activations.ts (act: an id of ACTIVATIONS below)
  /** y = f(x); y may alias x. alpha: leakyRelu slope, elu alpha; ignored by the others. */
  f32_act_forward: fn(['act', 'alpha', 'x', 'y', 'n']),
  /** dx = dy ⊙ f'(x), given the pre-activation x and the output y = f(x); dx may alias dy. */
  f32_act_backward: fn(['act', 'alpha', 'x', 'y', 'dy', 'dx', 'n']),
  /** The fused epilogue of a dense layer: z[i, j] += bias[j] (kept for backward), y = f(z). */
  f32_bias_act: fn(['act', 'alpha', 'z', 'bias', 'y', 'm', 'n']),
  /** y = exp(x), elementwise (the core's own exp, the same bits on every engine). */
  f32_exp: fn(['n', 'x', 'y']),
  /** y = log(x), elementwise (the core's own log). */
  f32_log: fn(['n', 'x', 'y']),

  // losses.ts: each returns the loss summed over all n values (f64); if grad ≠ 0 it also writes
  // grad = gscale · ∂loss/∂pred (gscale = 1/count for a mean).
  /** Σ (p − t)²; grad = gscale·2(p − t). */
  f32_loss_mse: fn(LOSS, 'f64'),
  /** Σ |p − t|; grad = gscale·sign(p − t). */
  f32_loss_l1: fn(LOSS, 'f64'),
  /** Binary cross-entropy of a sigmoid output from its logits z and outputs y = σ(z), [m×n]:
   *  Σ max(z, 0) − z·t + log1p(exp(−|z|)) (summed row by row); grad = gscale·(y − t). */
  f32_loss_bce_sigmoid: fn(['logits', 'probs', 'target', 'grad', 'm', 'n', 'gscale'], 'f64'),
  /** out[i] = mean_j (p[i, j] − t[i, j])² for [m×n] p and t: the per-row reconstruction error. */
  f32_row_mse: fn(['pred', 'target', 'out', 'm', 'n']),
  /** Σ KL(N(μ, σ²) ‖ N(0, 1)) = Σ −½(1 + lv − μ² − e^lv); if gmu ≠ 0: gmu = gscale·μ, glogvar = gscale·½(e^lv − 1). */
  f32_loss_kl_normal: fn(['mu', 'logvar', 'gmu', 'glogvar', 'n', 'gscale'], 'f64'),
  /** Σ |z|; if grad ≠ 0, grad += gscale·sign(z). */
  f32_penalty_l1: fn(['z', 'grad', 'n', 'gscale'], 'f64'),
  /** weight·Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j = colSum[j]/m; if d ≠ 0, d[j] = (weight/m)(−ρ/ρ̂_j + (1−ρ)/(1−ρ̂_j)). */
  f32_penalty_kl_sparsity: fn(['colSum', 'd', 'n', 'm', 'rho', 'weight'], 'f64'),

  // optimizers.ts: fused in-place updates with PyTorch's semantics (torch.optim, 2.x docs).
  // p: parameters, g: gradients (never modified), the rest: state tensors of the same size.
  // step counts from 1. undo: the byte displacement from each buffer to its undo copy, where the
  // kernel stores every value before overwriting it. Each returns a count > 0 exactly when a new
  // value (parameter or state) is NaN or ±Infinity: the caller then copies the undo area back.
  f32_sgd: fn(['n', 'p', 'g', 'buf', 'lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'step', 'undo'], 'i32'),
  /** Adam (decoupled = 0) and AdamW (decoupled = 1), with optional AMSGrad (vmax used only then). */
  f32_adam: fn(['n', 'p', 'g', 'm', 'v', 'vmax', 'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled', 'amsgrad', 'step', 'undo'], 'i32'),
  /** gavg used only when centered; buf only when momentum > 0. */
  f32_rmsprop: fn(['n', 'p', 'g', 'sq', 'gavg', 'buf', 'lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'undo'], 'i32'),
  f32_adagrad: fn(['n', 'p', 'g', 'sum', 'lr', 'lrDecay', 'weightDecay', 'eps', 'step', 'undo'], 'i32'),
  f32_adadelta: fn(['n', 'p', 'g', 'sq', 'accDelta', 'lr', 'rho', 'eps', 'weightDecay', 'undo'], 'i32'),

  // random.ts: Philox4x32-10, counter-based. state: 32 bytes (key 2×u32, counter 4×u32, 2 spare).
  rng_seed: fn(['state', 'seedLo', 'seedHi']),
  /** Uniform in [lo, hi). */
  f32_rand_uniform: fn(['state', 'out', 'n', 'lo', 'hi']),
  f32_rand_normal: fn(['state', 'out', 'n', 'mean', 'std']),
  /** out[i] = 1 with probability p, else 0. */
  f32_rand_bernoulli: fn(['state', 'out', 'n', 'p']),
  /** out (i32) = a uniformly random permutation of 0..n−1 (Fisher–Yates). */
  rand_permutation: fn(['state', 'out', 'n']),

  // noise.ts: one generator call each (state as in random.ts)
  /** out = clamp(x + std·ε, lo, hi), ε ~ N(0, 1); out must not alias x. */
  f32_corrupt_gaussian: fn(['state', 'x', 'out', 'n', 'std', 'lo', 'hi']),
  /** out = x ⊙ Bernoulli(1 − p). */
  f32_corrupt_mask: fn(['state', 'x', 'out', 'n', 'p']),
  /** u ~ U[0, 1): u < p/2 → lo, u < p → hi, else x. */
  f32_corrupt_salt_pepper: fn(['state', 'x', 'out', 'n', 'p', 'lo', 'hi']),
  /** mask = Bernoulli(1 − p)/(1 − p), y = x ⊙ mask. */
  f32_dropout: fn(['state', 'x', 'mask', 'y', 'n', 'p']),
  /** out = a ⊙ b; out may alias a or b. */
  f32_mul: fn(['n', 'a', 'b', 'out']),
  /** eps ~ N(0, 1), z = μ + exp(½ lv)·eps. */
  f32_reparameterize: fn(['state', 'mu', 'logvar', 'eps', 'z', 'n']),
  /** dmu += dz, dlogvar += dz·eps·½·exp(½ lv). */
  f32_reparameterize_backward: fn(['dz', 'logvar', 'eps', 'dmu', 'dlogvar', 'n']),

  // conv.ts: NCHW samples stored one after another. A column matrix has C·KH·KW rows of OH·OW
  // values per sample, row (c, ki, kj) reading x[c, oy·sh − ph + ki·dh, ox·sw − pw + kj·dw]
  // (0 outside); sample b's row r starts at element b·sampleStride + r·rowStride.
  /** col = im2col(x) for `batch` samples; every value of every row is written. */
  f32_im2col: fn(['x', 'col', 'batch', ...CONV_WINDOW]),
  /** x = (accumulate ? x : 0) + col2im(col), the adjoint of f32_im2col (same arguments). */
  f32_col2im: fn(['col', 'x', 'batch', ...CONV_WINDOW, 'accumulate']),
  /** dst[j, i, :] = src[i, j, :] over [d0, d1, inner] (no overlap): batch-major ↔ channel-major. */
  f32_swap_blocks: fn(['src', 'dst', 'd0', 'd1', 'inner']),
  /** Max pooling over `planes` [h×w] planes; idx (i32) gets each maximum's index iy·w + ix in its plane. */
  f32_maxpool2d: fn(['x', 'y', 'idx', ...POOL]),
  /** dx = 0, then dx[plane, idx] += dy. */
  f32_maxpool2d_backward: fn(['dy', 'idx', 'dx', 'planes', 'h', 'w', 'oh', 'ow']),
  /** Average pooling, count_include_pad = true (divisor kh·kw). */
  f32_avgpool2d: fn(['x', 'y', ...POOL]),
  f32_avgpool2d_backward: fn(['dy', 'dx', ...POOL]),
  /** [h×w] → [h·fh × w·fw] per plane, integer factors. */
  f32_upsample_nearest2d: fn(['x', 'y', 'planes', 'h', 'w', 'fh', 'fw']),
  f32_upsample_nearest2d_backward: fn(['dy', 'dx', 'planes', 'h', 'w', 'fh', 'fw']),
  /** Bilinear, align_corners = false; rh, rw = 1/scale factor (PyTorch's source-index scale). */
  f32_upsample_bilinear2d: fn(['x', 'y', 'planes', 'h', 'w', 'oh', 'ow', 'rh', 'rw']),
  f32_upsample_bilinear2d_backward: fn(['dy', 'dx', 'planes', 'h', 'w', 'oh', 'ow', 'rh', 'rw']),
  /** A conv layer's epilogue over [batch, c, hw]: z += bias[c] (per channel, kept), y = f(z); y may be z. */
  f32_bias_channels_act: fn(['act', 'alpha', 'z', 'bias', 'y', 'batch', 'c', 'hw']),
  /** out[c] = (accumulate ? out[c] : 0) + Σ_b Σ_p x[b, c, p]: a conv layer's bias gradient. */
  f32_channel_sum: fn(['x', 'out', 'batch', 'c', 'hw', 'accumulate']),

  // int8.ts: int8 inference (i32 sums, the same bits in both builds)
  /** q (i16 [m×kp], pad 0) = clamp(nearest(x/s), ±127) per row; s = fixedScale > 0, else max|row|/127 (1 for 0). */
  i8_quantize_rows: fn(['x', 'q', 'scales', 'm', 'k', 'kp', 'fixedScale']),
  /** c (f32 [m×n]) = ((f32(Σ a·w) · sa[i]) · sw[j]) + bias[j]; a i16 [m×kp], w i8 panels of 8 columns. */
  i8_gemm_panels: fn(['m', 'n', 'kp', 'a', 'panels', 'sa', 'sw', 'bias', 'c']),
} as const;

/**
 * The thread pool of the threaded builds (assembly/parallel.ts; entry index-threads.ts): these
 * exist only there, next to every kernel above. src/runtime/threads.ts is their one caller.
 */
export const POOL_KERNELS = {
  /** Bytes of the pool's control block (zero-filled, 64-byte aligned, in shared memory). */
  pool_block_bytes: fn([], 'i32'),
  /** Bytes of GEMM scratch each thread needs. */
  pool_scratch_bytes: fn([], 'i32'),
  /** Main thread: GEMM scratch at `scratch`; large GEMMs go to the workers of `block` (0: none). */
  pool_attach: fn(['block', 'scratch']),
  /** A worker's loop: serves jobs until pool_stop; traps propagate to the worker's JS. */
  pool_work: fn(['block', 'scratch']),
  /** Called by a worker's JS after pool_work trapped: marks the pool failed, leaves the job. */
  pool_fail: fn(['block']),
  /** Main thread, after a product trapped on it: closes the job, waits until no worker is inside. */
  pool_abandon: fn(['block']),
  /** 1 if a worker failed since the pool started. */
  pool_failed: fn(['block'], 'i32'),
  /** Makes every worker return from pool_work. */
  pool_stop: fn(['block']),
  /** Tasks the workers ran since the pool started. */
  pool_worker_tasks: fn(['block'], 'i32'),
} as const;

export type KernelName = keyof typeof KERNELS;
export type PoolKernelName = keyof typeof POOL_KERNELS;

/** Any kernel as JS calls it (for wrappers: Arena.wrapKernels, traceKernels). */
export type AnyKernel = (...args: number[]) => number | void;

/** A function of the core as JS sees it: one number per argument. */
type KernelFunction<S> =
  S extends KernelSignature<infer A, infer R> ? (...args: { -readonly [I in keyof A]: number }) => R extends 'void' ? void : number : never;

/**
 * The parts of a `WebAssembly.Memory` the library uses, declared here so that no DOM (or
 * WebAssembly) lib is needed to compile the published types; a real Memory satisfies it.
 */
export interface CoreMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

/** The exports of the core: every kernel of the table, and its memory. */
export type CoreExports = { readonly [K in KernelName]: KernelFunction<(typeof KERNELS)[K]> } & { readonly memory: CoreMemory };
/** The pool's exports, present in the threaded builds only. */
export type PoolExports = { readonly [K in PoolKernelName]: KernelFunction<(typeof POOL_KERNELS)[K]> };

/**
 * Activation ids: the values of the core's exported immutable globals ACT_LINEAR, ACT_RELU, ...
 * (assembly/activations.ts, where they are defined). test/abi.test.ts checks that this table and
 * the globals of every build agree, name for name ({@link activationGlobal}) and value for value.
 */
export const ACTIVATIONS = {
  linear: 0,
  relu: 1,
  leakyRelu: 2,
  elu: 3,
  sigmoid: 4,
  tanh: 5,
  softplus: 6,
  gelu: 7,
} as const;
export type ActivationName = keyof typeof ACTIVATIONS;

/** The name of the global an activation id is exported as: leakyRelu → ACT_LEAKY_RELU. */
export function activationGlobal(name: ActivationName): string {
  return `ACT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
