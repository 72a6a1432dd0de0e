import { expect, test } from 'vitest';
import { scratchCore } from './helpers/core.js';
test('core loads', async () => {
  const s = await scratchCore();
  expect(s.ex.heap_base()).toBeGreaterThan(0);
});
