// Noise applied inside the core, from the seeded Philox stream (random.ts): input corruption for
// denoising autoencoders, dropout masks, and the VAE's reparameterisation z = μ + σ·ε.
//
// Each kernel makes exactly one generator call (random.ts: one call index per call), so the
// stream a model consumes per step is fixed by its layer structure, never by the data.
// The elementwise passes run on f32x4 with a scalar tail that does one lane's arithmetic.

import { f32_rand_bernoulli, f32_rand_normal, f32_rand_uniform } from './random';
import { exp_f32, exp_f32x4 } from './math';

/**
 * out = clamp(x + std·ε, lo, hi), ε ~ N(0, 1) (Gaussian corruption). Pass lo = −Inf, hi = +Inf
 * for no clipping. out must not alias x.
 */
export function f32_corrupt_gaussian(state: usize, x: usize, out: usize, n: i32, std: f64, lo: f32, hi: f32): void {
  if (!ASC_NO_ASSERT) assert(out + (<usize>n << 2) <= x || x + (<usize>n << 2) <= out || n <= 0, 'f32_corrupt_gaussian: out overlaps x');
  f32_rand_normal(state, out, n, /* mean */ 0, std);
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.min(f32x4.max(f32x4.add(v128.load(x + o), v128.load(out + o)), vlo), vhi));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, min<f32>(max<f32>(load<f32>(x + o) + load<f32>(out + o), lo), hi));
  }
}

/** out = x ⊙ m, m ~ Bernoulli(1 − p) (masking noise: each value is zeroed with probability p). */
export function f32_corrupt_mask(state: usize, x: usize, out: usize, n: i32, p: f64): void {
  f32_rand_bernoulli(state, out, n, 1.0 - p);
  f32_mul(n, x, out, out);
}

/**
 * Salt-and-pepper: with probability p/2 a value becomes lo (pepper), with probability p/2 hi
 * (salt), else it stays x; u ~ U[0, 1) decides: u < p/2 → lo, p/2 ≤ u < p → hi.
 */
export function f32_corrupt_salt_pepper(state: usize, x: usize, out: usize, n: i32, p: f32, lo: f32, hi: f32): void {
  f32_rand_uniform(state, out, n, 0.0, 1.0);
  const half = p * 0.5;
  const vh = f32x4.splat(half);
  const vp = f32x4.splat(p);
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const u = v128.load(out + o);
    const keep = v128.bitselect(vhi, v128.load(x + o), f32x4.lt(u, vp));
    v128.store(out + o, v128.bitselect(vlo, keep, f32x4.lt(u, vh)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const u = load<f32>(out + o);
    store<f32>(out + o, u < half ? lo : u < p ? hi : load<f32>(x + o));
  }
}

/**
 * Inverted dropout (PyTorch's nn.Dropout in training): mask = Bernoulli(1 − p)·(1/(1 − p)),
 * y = x ⊙ mask. The mask is kept for backward (dx = dy ⊙ mask). Needs 0 ≤ p < 1.
 */
export function f32_dropout(state: usize, x: usize, mask: usize, y: usize, n: i32, p: f64): void {
  f32_rand_bernoulli(state, mask, n, 1.0 - p);
  const s = <f32>(1.0 / (1.0 - p));
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const m = f32x4.mul(v128.load(mask + o), vs);
    v128.store(mask + o, m);
    v128.store(y + o, f32x4.mul(v128.load(x + o), m));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const m = load<f32>(mask + o) * s;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}

/** out = a ⊙ b, elementwise; out may alias a or b. */
export function f32_mul(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/**
 * The VAE's reparameterisation (Kingma & Welling 2014, §2.4): ε ~ N(0, 1) written to eps (kept
 * for backward), z = μ + exp(½·log σ²)·ε. exp is the core's own (math.ts).
 */
export function f32_reparameterize(state: usize, mu: usize, logvar: usize, eps: usize, z: usize, n: i32): void {
  f32_rand_normal(state, eps, n, /* mean */ 0, /* std */ 1);
  const half = f32x4.splat(0.5);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const sd = exp_f32x4(f32x4.mul(v128.load(logvar + o), half));
    v128.store(z + o, f32x4.add(v128.load(mu + o), f32x4.mul(sd, v128.load(eps + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const sd = exp_f32(load<f32>(logvar + o) * 0.5);
    store<f32>(z + o, load<f32>(mu + o) + sd * load<f32>(eps + o));
  }
}

/**
 * Backward of the reparameterisation, accumulated: dμ += dz, dlogσ² += dz·ε·½·exp(½·log σ²).
 * (dμ and dlogσ² usually hold the KL term's gradient already.)
 */
export function f32_reparameterize_backward(dz: usize, logvar: usize, eps: usize, dmu: usize, dlogvar: usize, n: i32): void {
  const half = f32x4.splat(0.5);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(dz + o);
    const sd = exp_f32x4(f32x4.mul(v128.load(logvar + o), half));
    v128.store(dmu + o, f32x4.add(v128.load(dmu + o), g));
    const d = f32x4.mul(f32x4.mul(f32x4.mul(g, v128.load(eps + o)), sd), half);
    v128.store(dlogvar + o, f32x4.add(v128.load(dlogvar + o), d));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(dz + o);
    const sd = exp_f32(load<f32>(logvar + o) * 0.5);
    store<f32>(dmu + o, load<f32>(dmu + o) + g);
    store<f32>(dlogvar + o, load<f32>(dlogvar + o) + ((g * load<f32>(eps + o)) * sd) * 0.5);
  }
}
