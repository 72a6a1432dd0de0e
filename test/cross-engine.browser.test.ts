// Same seed, same data ⇒ the same bits in Chromium and in Node: this file runs in Chromium and
// asks the Node process driving it to do the same training run.
import { expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import { trainReference } from './cases/train-reference.js';
import { mnist } from './helpers/mnist.js';

test('training in Chromium and in Node gives bit-identical weights and reconstructions', async () => {
  const { train, test: held } = mnist();
  const here = await trainReference(train, held);
  const node = await commands.trainReferenceInNode();
  expect(here.loss[1]).toBeLessThan(here.loss[0]);
  expect(here.weightsHash).toBe(node.weightsHash);
  expect(here.loss).toEqual(node.loss);
  expect(here.bits.length).toBe(32 * 784);
  const firstDiff = here.bits.findIndex((b, i) => b !== node.bits[i]);
  expect(firstDiff).toBe(-1);
});
