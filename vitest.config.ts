import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { browserCommands } from './test/browser-commands.js';

// Debian's chromium, never a downloaded browser. The flags keep it off the (closed) network.
const chromiumArgs = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts'],
          environment: 'node',
          execArgv: ['--experimental-wasm-relaxed-simd'],
        },
      },
      {
        extends: true,
        server: {
          headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
        },
        test: {
          name: 'chromium',
          // Every test runs here too, except those that need Node's file system or processes.
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            instances: [{ browser: 'chromium' }],
            provider: playwright({
              launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs },
            }),
            commands: browserCommands,
          },
        },
      },
    ],
  },
});
