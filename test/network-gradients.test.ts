// Dense layers and whole networks: the core's backward pass against central finite differences
// of an independent float64 JS network with the same weights.
import { describe, expect, test } from 'vitest';
import { InputError, init } from '../src/index.js';
import { arena } from '../src/runtime/context.js';
import { Kernels, type ActivationName, type LossKind } from '../src/runtime/kernels.js';
import { Rng } from '../src/runtime/rng.js';
import { Dense, Sequential, type DenseSpec } from '../src/nn/layers.js';
import { centralDiff, refForward, refLayers, refLoss, type RefLayer } from './helpers/reference-nn.js';
import { randomArray } from './helpers/reference.js';

await init();

const dense = (units: number, activation: ActivationName): DenseSpec => ({ type: 'dense', units, activation });

const toRef = (seq: Sequential): RefLayer[] => refLayers(arena(), seq.layers as Dense[]);

const HIDDEN: ActivationName[] = ['linear', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'softplus', 'gelu'];
const CASES: { act: ActivationName; out: ActivationName; loss: LossKind }[] = [
  ...HIDDEN.map((act) => ({ act, out: 'sigmoid' as const, loss: 'bceLogits' as const })),
  { act: 'tanh', out: 'sigmoid', loss: 'mse' },
  { act: 'elu', out: 'linear', loss: 'mse' },
  { act: 'softplus', out: 'tanh', loss: 'l1' },
];

describe('network gradients vs float64 finite differences', () => {
  test.each(CASES)('hidden $act, output $out, loss $loss', ({ act, out, loss }) => {
    const a = arena();
    const k = new Kernels(a);
    const live = a.liveTensors();
    const rng = new Rng(a, 7);
    const rows = 5;
    const enc = new Sequential(k, [9], [dense(6, act), dense(3, 'linear')], 'encoder', false);
    const dec = new Sequential(k, [3], [dense(5, act), dense(9, out)], 'decoder', true);
    enc.init(rng, 'glorotUniform');
    dec.init(rng, 'glorotUniform');
    // biases away from zero so every unit is exercised
    for (const p of [...enc.params(), ...dec.params()]) if (p.shape.length === 1) rng.uniform(p.value, -0.3, 0.3);
    enc.reserve(rows);
    dec.reserve(rows);
    const xv = randomArray(rows * 9, 11, 0, 1);
    const x = a.alloc(rows * 9);
    a.write(x, xv);
    const grad = a.alloc(rows * 9);
    dec.forward(enc.forward(x, rows), rows);
    const n = rows * 9;
    const value = k.loss(loss, dec.last, x, grad, rows, 9, 1 / n) / n;
    const dx = dec.backward(grad, rows, loss === 'bceLogits');
    enc.backward(dx!, rows);

    const layers = [...toRef(enc), ...toRef(dec)];
    const x64 = Float64Array.from(xv);
    const f = () => {
      const r = refForward(layers, x64, rows);
      return loss === 'bceLogits' ? refLoss.bceLogits(r.z, xv) : refLoss[loss](r.y, xv);
    };
    expect(value).toBeCloseTo(f(), 5);
    const params = [...enc.params(), ...dec.params()];
    params.forEach((p, pi) => {
      const ref = pi % 2 === 0 ? layers[pi >> 1].w : layers[pi >> 1].b;
      const got = a.read(p.grad);
      for (let i = 0; i < ref.length; i++) {
        const fd = centralDiff(f, ref, i);
        const err = Math.abs(got[i] - fd);
        if (err > 2e-5 + 2e-3 * Math.abs(fd)) {
          throw new Error(`${p.name}[${i}] (${act}/${out}/${loss}): backprop ${got[i]}, finite difference ${fd}`);
        }
      }
    });
    for (const t of [x, grad]) a.release(t);
    enc.dispose();
    dec.dispose();
    rng.dispose();
    expect(a.liveTensors()).toBe(live);
  });
});

test('an unknown layer type is an InputError naming the layer, and leaks nothing', () => {
  const a = arena();
  const k = new Kernels(a);
  const live = a.liveTensors();
  const specs = [dense(4, 'relu'), { type: 'lstm', units: 3 } as unknown as DenseSpec];
  expect(() => new Sequential(k, [6], specs, 'encoder', false)).toThrow(InputError);
  expect(() => new Sequential(k, [6], specs, 'encoder', false)).toThrow(/encoder.2: unknown layer type "lstm"; expected one of dense/);
  expect(a.liveTensors()).toBe(live);
});
