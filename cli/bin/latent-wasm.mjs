#!/usr/bin/env node
// The latent-wasm command: see ../src/main.mjs and docs/cli.md.
import { main } from '../src/main.mjs';

// `latent-wasm score m.safetensors x.csv | head`: a closed pipe ends the output quietly
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
