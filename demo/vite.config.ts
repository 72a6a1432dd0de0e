// The demo page: `npm run demo:web` serves it (Vite's dev server), `npm run build:demo` writes a
// static site to demo/dist. Relative URLs (base './') and no SharedArrayBuffer, so the site works
// from any static host and any sub-path, without cross-origin isolation headers.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
});
