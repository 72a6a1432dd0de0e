// Plain JavaScript baseline: straightforward Float32Array loops, no SIMD, no blocking — what one
// writes without a numerics library. The same network, loss (BCE from the logits, mean) and Adam
// (PyTorch semantics) as the library, so its first-step loss must match ours.
import { LAYERS, layersWithWeights } from '../lib/common.mjs';

export const label = () => 'plain JS (Float32Array loops)';
export async function setup() {}

// C[m×n] = op(A)·op(B), C overwritten. nn: i-k-j (rows of B streamed); nt: dot products of rows;
// tn: p-i-j over the shared dimension.
export function gemmNN(m, n, k, a, b, c) {
  c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}
export function gemmNT(m, n, k, a, b, c) {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
      c[i * n + j] = s;
    }
  }
}
export function gemmTN(m, n, k, a, b, c) {
  c.fill(0, 0, m * n);
  for (let p = 0; p < k; p++) {
    const ap = p * m;
    const bp = p * n;
    for (let i = 0; i < m; i++) {
      const av = a[ap + i];
      if (av === 0) continue;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}
const GEMM = { nn: gemmNN, nt: gemmNT, tn: gemmTN };

export function gemm(list, inputs) {
  const ops = list.map(([v, m, n, k], i) => ({ f: GEMM[v], m, n, k, a: inputs[i].a, b: inputs[i].b, c: new Float32Array(m * n) }));
  return {
    run() {
      for (const o of ops) o.f(o.m, o.n, o.k, o.a, o.b, o.c);
    },
    result: (i) => ops[i].c,
    dispose() {},
  };
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

export function elementwise(kind, x, dy) {
  const n = x.length;
  const y = new Float32Array(n);
  const dx = new Float32Array(n);
  const run = {
    relu: () => {
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
    },
    sigmoid: () => {
      for (let i = 0; i < n; i++) y[i] = sigmoid(x[i]);
    },
    reluBackward: () => {
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
    },
  }[kind];
  return { run, result: () => (kind === 'reluBackward' ? dx : y), dispose() {} };
}

class AdamState {
  constructor(sizes) {
    this.t = 0;
    this.m = sizes.map((n) => new Float32Array(n));
    this.v = sizes.map((n) => new Float32Array(n));
  }
  step(params, grads, lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
    this.t++;
    const c1 = 1 - b1 ** this.t;
    const c2 = Math.sqrt(1 - b2 ** this.t);
    for (let q = 0; q < params.length; q++) {
      const p = params[q], g = grads[q], m = this.m[q], v = this.v[q];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= (lr / c1) * (m[i] / (Math.sqrt(v[i]) / c2 + eps));
      }
    }
  }
}

export function adam(grads) {
  const params = grads.map((g) => new Float32Array(g.length));
  const st = new AdamState(grads.map((g) => g.length));
  return { run: () => st.step(params, grads), dispose() {} };
}

/** The network with buffers for `batch` rows, allocated once. */
class Net {
  constructor(weights, batch) {
    this.layers = layersWithWeights(weights).map((l) => ({
      ...l,
      weight: l.weight.slice(),
      bias: l.bias.slice(),
      dW: new Float32Array(l.weight.length),
      db: new Float32Array(l.bias.length),
      z: new Float32Array(batch * l.out),
      y: new Float32Array(batch * l.out),
      dx: new Float32Array(batch * l.in),
    }));
    this.params = this.layers.flatMap((l) => [l.weight, l.bias]);
    this.grads = this.layers.flatMap((l) => [l.dW, l.db]);
    this.adam = new AdamState(this.params.map((p) => p.length));
  }
  forward(x, rows) {
    let h = x;
    for (const l of this.layers) {
      gemmNT(rows, l.out, l.in, h, l.weight, l.z);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < l.out; j++) {
          const z = (l.z[i * l.out + j] += l.bias[j]);
          l.y[i * l.out + j] = l.act === 'relu' ? (z > 0 ? z : 0) : sigmoid(z);
        }
      }
      l.input = h;
      h = l.y;
    }
    return h;
  }
  /** One Adam step on BCE(sigmoid(logits), x), mean over all values; returns the loss. */
  trainStep(x, rows) {
    this.forward(x, rows);
    const last = this.layers[this.layers.length - 1];
    const n = rows * last.out;
    let loss = 0;
    const g = last.z; // reuse: dL/dz overwrites the logits once the loss is taken
    for (let i = 0; i < n; i++) {
      const z = last.z[i], t = x[i];
      loss += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
      g[i] = (last.y[i] - t) / n;
    }
    let dz = g;
    for (let li = this.layers.length - 1; li >= 0; li--) {
      const l = this.layers[li];
      if (li !== this.layers.length - 1) for (let i = 0; i < rows * l.out; i++) if (l.z[i] <= 0) dz[i] = 0;
      gemmTN(l.out, l.in, rows, dz, l.input, l.dW);
      l.db.fill(0);
      for (let i = 0; i < rows; i++) for (let j = 0; j < l.out; j++) l.db[j] += dz[i * l.out + j];
      if (li === 0) break;
      gemmNN(rows, l.in, l.out, dz, l.weight, l.dx);
      dz = l.dx;
    }
    this.adam.step(this.params, this.grads);
    return loss / n;
  }
}

export function train(batch, x, weights) {
  const net = new Net(weights, batch);
  const input = x.subarray(0, batch * 784);
  let loss = NaN;
  return {
    run: () => {
      loss = net.trainStep(input, batch);
    },
    firstLoss: () => new Net(weights, batch).trainStep(input, batch),
    lastLoss: () => loss,
    dispose() {},
  };
}

export function infer(batch, x, weights) {
  const net = new Net(weights, batch);
  const input = x.subarray(0, batch * 784);
  return { run: () => net.forward(input, batch).slice(0, batch * 784), dispose() {} };
}

export async function teardown() {}
