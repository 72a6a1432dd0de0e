// The demo page: `npm run demo:web` serves it (Vite's dev server), `npm run build:demo` writes a
// static site to demo/dist. Relative URLs (base './') and no SharedArrayBuffer, so the site works
// from any static host and any sub-path, without cross-origin isolation headers.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  // keepNames: the library's class names show in the page (model.summary() prints them), so the
  // minifier must not rename the classes
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
});
