// Builds dist/: type declarations from tsc (one .d.ts per source module), and the JavaScript as
// a few bundled ES modules (Vite library mode, not minified):
//   dist/index.js   the main entry (browsers, Node, Deno, Bun, Workers)
//   dist/node.js    `latent-wasm/node` (file helpers; the only place node: imports live)
//   dist/internal.js `latent-wasm/internal` (Kernels and the kernel table for bench/; not public API)
//   dist/chunks/    code both entries share, and the relaxed and threaded builds' bytes (loaded on demand)
// One file instead of ~20 modules cuts Node's import time about threefold (module resolution and
// loading dominate a cold start); bundlers still tree-shake it ("sideEffects": false).
// Vite comes with vitest (a devDependency).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** A module of src/ other than the entries and the Node-only io/node.ts. */
const LIBRARY_MODULE = /[\\/]src[\\/](?!(index|node|internal)\.ts$|io[\\/]node\.ts$)/;
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
  cwd: root,
  stdio: 'inherit',
});
await build({
  root,
  configFile: false,
  logLevel: 'warn',
  publicDir: false,
  build: {
    outDir: dist,
    emptyOutDir: false,
    minify: false,
    target: 'es2022',
    sourcemap: false,
    lib: { entry: { index: join(root, 'src', 'index.ts'), node: join(root, 'src', 'node.ts'), internal: join(root, 'src', 'internal.ts') }, formats: ['es'] },
    rollupOptions: {
      external: [/^node:/, 'pngjs'],
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: (c) => (c.name.startsWith('wasm-') ? `chunks/${c.name}-[hash].js` : 'chunks/core-[hash].js'),
        // the library's modules in one chunk, so `import 'latent-wasm'` loads two files (index.js
        // and the core) however the three entries share modules; the Node-only file helpers
        // (src/io/node.ts) stay in dist/node.js, the relaxed and threaded builds' bytes in their own chunks
        manualChunks: (id) =>
          id.includes('wasm-relaxed-bytes')
            ? 'wasm-relaxed-bytes'
            : id.includes('wasm-threads-bytes')
              ? 'wasm-threads-bytes'
              : LIBRARY_MODULE.test(id)
                ? 'core'
                : undefined,
      },
    },
  },
});
