// Commands a Chromium test can run in the Node process that drives it (vitest browser mode).
import { loadMnist } from '../examples/load-mnist.mjs';
import { trainReference, type ReferenceRun } from './cases/train-reference.js';

export const browserCommands = {
  /** The reference training run, in Node, on the same split the browser loads. */
  trainReferenceInNode: async (): Promise<ReferenceRun> => {
    const { train, test } = loadMnist();
    return trainReference(train, test);
  },
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    trainReferenceInNode: () => Promise<ReferenceRun>;
  }
}
