// Defect 5: binary cross-entropy on targets outside [0, 1] is refused at fit and evaluate (it
// trained silently to a negative loss and useless scores), naming the range found and the fix.
import { describe, expect, test } from 'vitest';
import { Autoencoder, ConvAutoencoder, InputError, VAE, init, liveTensors } from '../src/index.js';
import { errorMessage } from './helpers/errors.js';
import { randomArray } from './helpers/reference.js';

await init();

const W = 12;
const inUnit = randomArray(16 * W, 3, 0, 1);
const large = inUnit.map((v) => v * 1e5); // the case: raw values around 1e5
const negative = inUnit.map((v) => v - 0.5);

const inputError = (call: () => unknown) => errorMessage(call, InputError);

const range = (a: Float32Array) => [Math.min(...a), Math.max(...a)];

describe("BCE targets outside [0, 1]: InputError at fit and evaluate", () => {
  const models: [string, () => Autoencoder | VAE][] = [
    ['Autoencoder', () => new Autoencoder({ inputSize: W, hidden: [6], latentSize: 2, seed: 1 })],
    ['VAE', () => new VAE({ inputSize: W, hidden: [6], latentSize: 2, seed: 1 })],
    ['ConvAutoencoder', () => new ConvAutoencoder({ inputShape: [1, 3, 4], filters: [2], latentSize: 2, seed: 1 })],
  ];
  test.each(models)('%s: names the range found and what to do; weights untouched', async (_, make) => {
    const live = liveTensors();
    const m = make();
    expect(m.config.loss).toBe('bce');
    const before = m.getWeights();
    for (const bad of [large, negative]) {
      const [lo, hi] = range(bad);
      const fitMessage = await inputError(() => m.fit(bad, { epochs: 1 }));
      expect(fitMessage).toContain(`x holds values in [${lo}, ${hi}]`);
      expect(fitMessage).toMatch(/needs targets in \[0, 1\]: normalize the data .* or use outputActivation 'linear' with loss 'mse'/);
      expect(await inputError(() => m.evaluate(bad))).toContain(`x holds values in [${lo}, ${hi}]`);
      expect(await inputError(() => m.fit(inUnit, { validationData: bad }))).toContain(`validationData holds values in [${lo}, ${hi}]`);
    }
    expect(m.getWeights()).toEqual(before);
    // one value just outside is enough; exactly 0 and 1 are fine
    const edge = inUnit.slice();
    edge[0] = 0;
    edge[1] = 1;
    await m.fit(edge, { epochs: 1 });
    expect(Number.isFinite(m.evaluate(edge).loss)).toBe(true);
    edge[5] = 1.0000001;
    expect(await inputError(() => m.evaluate(edge))).toContain(`x holds values in [0, ${edge[5]}]`);
    m.dispose();
    expect(liveTensors()).toBe(live);
  });

  test('the suggested way out works: a linear output with MSE trains on the same data', async () => {
    const m = new Autoencoder({ inputSize: W, hidden: [6], latentSize: 2, outputActivation: 'linear', loss: 'mse', seed: 1 });
    const h = await m.fit(negative, { epochs: 3 });
    expect(h.loss.every(Number.isFinite)).toBe(true);
    expect(m.evaluate(large).mse).toBeGreaterThan(0);
    m.dispose();
  });
});
