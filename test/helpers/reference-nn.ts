// A plain float64 JS dense network: the independent reference for the core's layers and losses.
import type { ActivationName } from '../../src/runtime/kernels.js';
import type { Arena } from '../../src/runtime/memory.js';
import type { Dense } from '../../src/nn/layers.js';

export const f64Activation: Record<ActivationName, (x: number, alpha: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(x, 0),
  leakyRelu: (x, a) => (x > 0 ? x : a * x),
  elu: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
  gelu: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
};

export interface RefLayer {
  w: Float64Array; // [out × in]
  b: Float64Array;
  inSize: number;
  outSize: number;
  activation: ActivationName;
  alpha: number;
}

/** Forward through layers; returns the output and the last layer's pre-activation. */
export function refForward(layers: RefLayer[], x: Float64Array, rows: number): { y: Float64Array; z: Float64Array } {
  let h = x;
  let z = new Float64Array(0);
  for (const l of layers) {
    z = new Float64Array(rows * l.outSize);
    const y = new Float64Array(rows * l.outSize);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < l.outSize; o++) {
        let s = l.b[o];
        for (let i = 0; i < l.inSize; i++) s += h[r * l.inSize + i] * l.w[o * l.inSize + i];
        z[r * l.outSize + o] = s;
        y[r * l.outSize + o] = f64Activation[l.activation](s, l.alpha);
      }
    }
    h = y;
  }
  return { y: h, z };
}

/** Mean losses over all values, as torch.nn's reduction='mean'. */
export const refLoss = {
  mse: (p: Float64Array, t: ArrayLike<number>) => p.reduce((s, v, i) => s + (v - t[i]) ** 2, 0) / p.length,
  l1: (p: Float64Array, t: ArrayLike<number>) => p.reduce((s, v, i) => s + Math.abs(v - t[i]), 0) / p.length,
  /** From logits z. */
  bceLogits: (z: Float64Array, t: ArrayLike<number>) =>
    z.reduce((s, v, i) => s + Math.max(v, 0) - v * t[i] + Math.log1p(Math.exp(-Math.abs(v))), 0) / z.length,
};

/** Central finite difference of f with respect to arr[i], in float64. */
export function centralDiff(f: () => number, arr: Float64Array, i: number, eps = 1e-6): number {
  const old = arr[i];
  arr[i] = old + eps;
  const up = f();
  arr[i] = old - eps;
  const down = f();
  arr[i] = old;
  return (up - down) / (2 * eps);
}

/** Float64 copies of dense layers' weights, as the reference network's layers. */
export function refLayers(arena: Arena, layers: readonly Dense[]): RefLayer[] {
  return layers.map((l) => ({
    w: Float64Array.from(arena.f32(l.weight.value)),
    b: Float64Array.from(arena.f32(l.bias.value)),
    inSize: l.inSize,
    outSize: l.outSize,
    activation: l.spec.activation,
    alpha: l.alpha,
  }));
}
