/**
 * The exports of the WebAssembly core (assembly/index.ts), as TypeScript sees them.
 * Pointers are byte offsets into linear memory; sizes are element counts; `i32` flags are 0/1.
 * Everything here is raw: argument checks live once, in kernels.ts and the layers above it.
 */
type Ptr = number;
type Flag = number;

export interface CoreExports {
  memory: WebAssembly.Memory;
  /** First free byte after the module's static data. */
  heap_base(): number;

  // gemm.ts: C[m×n] = (accumulate ? C : 0) + op(A)·op(B), row-major, contiguous.
  /** A [m×k], B [k×n]. */
  f32_gemm_nn(m: number, n: number, k: number, a: Ptr, b: Ptr, c: Ptr, accumulate: Flag): void;
  /** A [m×k], B [n×k] (B transposed: y = x·Wᵀ with PyTorch's W[out, in]). */
  f32_gemm_nt(m: number, n: number, k: number, a: Ptr, b: Ptr, c: Ptr, accumulate: Flag): void;
  /** A [k×m] (A transposed: dW = dYᵀ·X), B [k×n]. */
  f32_gemm_tn(m: number, n: number, k: number, a: Ptr, b: Ptr, c: Ptr, accumulate: Flag): void;
  /** Packs B [n×k] into 32-column panels (ceil(n/32)·32·k floats) for f32_gemm_nt_panels. */
  f32_pack_nt_panels(n: number, k: number, b: Ptr, panels: Ptr): void;
  /** f32_gemm_nt from B's panels: the same bits, faster for small m (batch-1 inference). */
  f32_gemm_nt_panels(m: number, n: number, k: number, a: Ptr, panels: Ptr, c: Ptr, accumulate: Flag): void;

  // elementwise.ts
  /** y[i, j] += bias[j] for an [m×n] y. */
  f32_bias_add(y: Ptr, bias: Ptr, m: number, n: number): void;
  /** out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j] for an [m×n] x. */
  f32_col_sum(x: Ptr, out: Ptr, m: number, n: number, accumulate: Flag): void;
  /** y += alpha·x. */
  f32_axpy(n: number, alpha: number, x: Ptr, y: Ptr): void;
  /** x *= alpha, in place. */
  f32_scale(n: number, alpha: number, x: Ptr): void;
  f32_copy(n: number, src: Ptr, dst: Ptr): void;
  f32_fill(n: number, value: number, dst: Ptr): void;
  /** x = min(max(x, lo), hi), in place. */
  f32_clamp(n: number, lo: number, hi: number, x: Ptr): void;
  /** Σ x², accumulated in f64. */
  f32_sum_sq(n: number, x: Ptr): number;
  /** How many of the n values are NaN or ±Infinity. */
  f32_count_nonfinite(n: number, x: Ptr): number;

  // activations.ts (ids in src/runtime/kernels.ts ACTIVATIONS, mirrored from activations.ts)
  /** y = f(x); y may alias x. alpha: leakyRelu slope, elu alpha; ignored by the others. */
  f32_act_forward(act: number, alpha: number, x: Ptr, y: Ptr, n: number): void;
  /** dx = dy ⊙ f'(x), given the pre-activation x and the output y = f(x); dx may alias dy. */
  f32_act_backward(act: number, alpha: number, x: Ptr, y: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  /** The fused epilogue of a dense layer: z[i, j] += bias[j] (kept for backward), y = f(z). */
  f32_bias_act(act: number, alpha: number, z: Ptr, bias: Ptr, y: Ptr, m: number, n: number): void;
  /** y = exp(x), y = log(x), elementwise (the core's own exp/log, the same bits on every engine). */
  f32_exp(n: number, x: Ptr, y: Ptr): void;
  f32_log(n: number, x: Ptr, y: Ptr): void;

  // losses.ts: each returns the loss summed over all n values (f64); if grad ≠ 0 it also writes
  // grad = gscale · ∂loss/∂pred (gscale = 1/count for a mean).
  /** Σ (p − t)²; grad = gscale·2(p − t). */
  f32_loss_mse(pred: Ptr, target: Ptr, grad: Ptr, n: number, gscale: number): number;
  /** Σ |p − t|; grad = gscale·sign(p − t). */
  f32_loss_l1(pred: Ptr, target: Ptr, grad: Ptr, n: number, gscale: number): number;
  /** Binary cross-entropy from logits z: Σ max(z, 0) − z·t + log1p(exp(−|z|)); grad = gscale·(σ(z) − t). */
  f32_loss_bce_logits(logits: Ptr, target: Ptr, grad: Ptr, n: number, gscale: number): number;
  /** out[i] = mean_j (p[i, j] − t[i, j])² for [m×n] p and t: the per-row reconstruction error. */
  f32_row_mse(pred: Ptr, target: Ptr, out: Ptr, m: number, n: number): void;

  // optimizers.ts: fused in-place updates with PyTorch's semantics (torch.optim, 2.x docs).
  // p: parameters, g: gradients (never modified), the rest: state tensors of the same size.
  // step counts from 1.
  f32_sgd(n: number, p: Ptr, g: Ptr, buf: Ptr, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: Flag, step: number): void;
  /** Adam (decoupled = 0) and AdamW (decoupled = 1), with optional AMSGrad (vmax used only then). */
  f32_adam(n: number, p: Ptr, g: Ptr, m: Ptr, v: Ptr, vmax: Ptr, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: Flag, amsgrad: Flag, step: number): void;
  /** gavg used only when centered; buf only when momentum > 0. */
  f32_rmsprop(n: number, p: Ptr, g: Ptr, sq: Ptr, gavg: Ptr, buf: Ptr, lr: number, alpha: number, eps: number,
    weightDecay: number, momentum: number, centered: Flag): void;
  f32_adagrad(n: number, p: Ptr, g: Ptr, sum: Ptr, lr: number, lrDecay: number, weightDecay: number, eps: number,
    step: number): void;
  f32_adadelta(n: number, p: Ptr, g: Ptr, sq: Ptr, accDelta: Ptr, lr: number, rho: number, eps: number,
    weightDecay: number): void;

  // random.ts: Philox4x32-10, counter-based. state: 32 bytes (key 2×u32, counter 4×u32, 2 spare).
  rng_seed(state: Ptr, seedLo: number, seedHi: number): void;
  /** Uniform in [lo, hi). */
  f32_rand_uniform(state: Ptr, out: Ptr, n: number, lo: number, hi: number): void;
  f32_rand_normal(state: Ptr, out: Ptr, n: number, mean: number, std: number): void;
  /** out[i] = 1 with probability p, else 0. */
  f32_rand_bernoulli(state: Ptr, out: Ptr, n: number, p: number): void;
  /** out (i32) = a uniformly random permutation of 0..n−1 (Fisher–Yates). */
  rand_permutation(state: Ptr, out: Ptr, n: number): void;

  // losses.ts: regularisers of the autoencoder family
  /** Σ KL(N(μ, σ²) ‖ N(0, 1)) = Σ −½(1 + lv − μ² − e^lv); if gmu ≠ 0: gmu = gscale·μ, glogvar = gscale·½(e^lv − 1). */
  f32_loss_kl_normal(mu: Ptr, logvar: Ptr, gmu: Ptr, glogvar: Ptr, n: number, gscale: number): number;
  /** Σ |z|; if grad ≠ 0, grad += gscale·sign(z). */
  f32_penalty_l1(z: Ptr, grad: Ptr, n: number, gscale: number): number;
  /** weight·Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j = colSum[j]/m; if d ≠ 0, d[j] = (weight/m)(−ρ/ρ̂_j + (1−ρ)/(1−ρ̂_j)). */
  f32_penalty_kl_sparsity(colSum: Ptr, d: Ptr, n: number, m: number, rho: number, weight: number): number;

  // noise.ts: one generator call each (state as in random.ts)
  /** out = clamp(x + std·ε, lo, hi), ε ~ N(0, 1); out must not alias x. */
  f32_corrupt_gaussian(state: Ptr, x: Ptr, out: Ptr, n: number, std: number, lo: number, hi: number): void;
  /** out = x ⊙ Bernoulli(1 − p). */
  f32_corrupt_mask(state: Ptr, x: Ptr, out: Ptr, n: number, p: number): void;
  /** u ~ U[0, 1): u < p/2 → lo, u < p → hi, else x. */
  f32_corrupt_salt_pepper(state: Ptr, x: Ptr, out: Ptr, n: number, p: number, lo: number, hi: number): void;
  /** mask = Bernoulli(1 − p)/(1 − p), y = x ⊙ mask. */
  f32_dropout(state: Ptr, x: Ptr, mask: Ptr, y: Ptr, n: number, p: number): void;
  /** out = a ⊙ b; out may alias a or b. */
  f32_mul(n: number, a: Ptr, b: Ptr, out: Ptr): void;
  /** eps ~ N(0, 1), z = μ + exp(½ lv)·eps. */
  f32_reparameterize(state: Ptr, mu: Ptr, logvar: Ptr, eps: Ptr, z: Ptr, n: number): void;
  /** dmu += dz, dlogvar += dz·eps·½·exp(½ lv). */
  f32_reparameterize_backward(dz: Ptr, logvar: Ptr, eps: Ptr, dmu: Ptr, dlogvar: Ptr, n: number): void;
  // conv.ts: NCHW samples stored one after another. A column matrix has C·KH·KW rows of OH·OW
  // values per sample, row (c, ki, kj) reading x[c, oy·sh − ph + ki·dh, ox·sw − pw + kj·dw]
  // (0 outside); sample b's row r starts at element b·sampleStride + r·rowStride.
  /** col = im2col(x) for `batch` samples; every value of every row is written. */
  f32_im2col(x: Ptr, col: Ptr, batch: number, c: number, h: number, w: number, kh: number, kw: number,
    sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, oh: number, ow: number,
    rowStride: number, sampleStride: number): void;
  /** x = (accumulate ? x : 0) + col2im(col), the adjoint of f32_im2col (same arguments). */
  f32_col2im(col: Ptr, x: Ptr, batch: number, c: number, h: number, w: number, kh: number, kw: number,
    sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, oh: number, ow: number,
    rowStride: number, sampleStride: number, accumulate: Flag): void;
  /** dst[j, i, :] = src[i, j, :] over [d0, d1, inner] (no overlap): batch-major ↔ channel-major. */
  f32_swap_blocks(src: Ptr, dst: Ptr, d0: number, d1: number, inner: number): void;
  /** Max pooling over `planes` [h×w] planes; idx (i32) gets each maximum's index iy·w + ix in its plane. */
  f32_maxpool2d(x: Ptr, y: Ptr, idx: Ptr, planes: number, h: number, w: number, kh: number, kw: number,
    sh: number, sw: number, ph: number, pw: number, oh: number, ow: number): void;
  /** dx = 0, then dx[plane, idx] += dy. */
  f32_maxpool2d_backward(dy: Ptr, idx: Ptr, dx: Ptr, planes: number, h: number, w: number, oh: number, ow: number): void;
  /** Average pooling, count_include_pad = true (divisor kh·kw). */
  f32_avgpool2d(x: Ptr, y: Ptr, planes: number, h: number, w: number, kh: number, kw: number,
    sh: number, sw: number, ph: number, pw: number, oh: number, ow: number): void;
  f32_avgpool2d_backward(dy: Ptr, dx: Ptr, planes: number, h: number, w: number, kh: number, kw: number,
    sh: number, sw: number, ph: number, pw: number, oh: number, ow: number): void;
  /** [h×w] → [h·fh × w·fw] per plane, integer factors. */
  f32_upsample_nearest2d(x: Ptr, y: Ptr, planes: number, h: number, w: number, fh: number, fw: number): void;
  f32_upsample_nearest2d_backward(dy: Ptr, dx: Ptr, planes: number, h: number, w: number, fh: number, fw: number): void;
  /** Bilinear, align_corners = false; rh, rw = 1/scale factor (PyTorch's source-index scale). */
  f32_upsample_bilinear2d(x: Ptr, y: Ptr, planes: number, h: number, w: number, oh: number, ow: number, rh: number, rw: number): void;
  f32_upsample_bilinear2d_backward(dy: Ptr, dx: Ptr, planes: number, h: number, w: number, oh: number, ow: number, rh: number, rw: number): void;
  /** A conv layer's epilogue over [batch, c, hw]: z += bias[c] (per channel, kept), y = f(z); y may be z. */
  f32_bias_channels_act(act: number, alpha: number, z: Ptr, bias: Ptr, y: Ptr, batch: number, c: number, hw: number): void;
  /** out[c] = (accumulate ? out[c] : 0) + Σ_b Σ_p x[b, c, p]: a conv layer's bias gradient. */
  f32_channel_sum(x: Ptr, out: Ptr, batch: number, c: number, hw: number, accumulate: Flag): void;

  // int8.ts: int8 inference (i32 accumulation, the same bits in both builds)
  /** q (i16 [m×kp], pad 0) = clamp(nearest(x/s), ±127) per row; s = fixedScale > 0, else max|row|/127 (1 for 0). */
  i8_quantize_rows(x: Ptr, q: Ptr, scales: Ptr, m: number, k: number, kp: number, fixedScale: number): void;
  /** c (f32 [m×n]) = ((f32(Σ a·w) · sa[i]) · sw[j]) + bias[j]; a i16 [m×kp], w i8 panels of 8 columns. */
  i8_gemm_panels(m: number, n: number, kp: number, a: Ptr, panels: Ptr, sa: Ptr, sw: Ptr, bias: Ptr, c: Ptr): void;
}
