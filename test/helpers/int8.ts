// Scalar JS models of the int8 path's exact arithmetic (assembly/int8.ts), for bitwise tests.

const f = Math.fround;

function nearestEven(v: number): number {
  const fl = Math.floor(v);
  const d = v - fl;
  return d < 0.5 ? fl : d > 0.5 ? fl + 1 : fl % 2 === 0 ? fl : fl + 1;
}

/** The reference quantizer: q as plain integers [m × k], scales. */
export function refQuantize(x: Float32Array, m: number, k: number, fixed: number): { q: Int16Array; s: Float32Array } {
  const q = new Int16Array(m * k);
  const s = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let si = f(fixed);
    if (!(si > 0)) {
      let mx = 0;
      for (let j = 0; j < k; j++) mx = Math.max(mx, Math.abs(x[i * k + j]));
      si = f(mx / 127);
      if (!(si > 0)) si = 1;
    }
    s[i] = si;
    for (let j = 0; j < k; j++) q[i * k + j] = Math.min(127, Math.max(-127, nearestEven(f(x[i * k + j] / si))));
  }
  return { q, s };
}

export function refGemm(q: Int16Array, sa: Float32Array, w: Int8Array, sw: Float32Array, b: Float32Array, m: number, n: number, k: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += q[i * k + p] * w[j * k + p];
      c[i * n + j] = f(f(f(f(acc) * sa[i]) * sw[j]) + b[j]);
    }
  }
  return c;
}

