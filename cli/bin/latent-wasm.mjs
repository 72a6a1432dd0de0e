#!/usr/bin/env node
// The latent-wasm command: see ../src/main.mjs and docs/cli.md.
import { main } from '../src/main.mjs';

process.exitCode = await main(process.argv.slice(2));
