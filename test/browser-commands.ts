// Commands a Chromium test can run in the Node process that drives it (vitest browser mode).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { splitDigits } from '../examples/mnist-split.js';
import { trainReference, type ReferenceRun } from './cases/train-reference.js';

const require = createRequire(import.meta.url);

export const browserCommands = {
  /** The reference training run, in Node, on the same split the browser loads. */
  trainReferenceInNode: async (): Promise<ReferenceRun> => {
    const digits = Array.from({ length: 10 }, (_, d) =>
      JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')),
    );
    const { train, test } = splitDigits(digits);
    return trainReference(train, test);
  },
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    trainReferenceInNode: () => Promise<ReferenceRun>;
  }
}
