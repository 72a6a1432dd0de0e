// The Worker fixture bundled as a wrangler-style bundler would: 'latent-wasm' resolved from
// node_modules and bundled; 'latent-wasm/wasm' resolved through the package's `exports` map to
// its .wasm file, which stays a separate module (the runtime compiles it at deploy time).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkerBundle {
  dir: string;
  /** Files of the worker: worker.js (ES module), latent.wasm (wasm module), model.bin and
   *  detector.bin (data: model files saved in Node). */
  worker: string;
  wasm: string;
  model: string;
  detector: string;
  /** model-int8.bin (data): the saved model quantized (docs/int8.md). */
  int8Model: string;
  /** model-int8-conv.bin (data): a ConvAutoencoder quantized (int8 conv2d and convTranspose2d). */
  int8ConvModel: string;
}

export async function bundleWorker(
  appDir: string, outName: string, model: Uint8Array, detector: Uint8Array, int8Model: Uint8Array, int8ConvModel: Uint8Array,
): Promise<WorkerBundle> {
  const { build } = await import('vite');
  const dir = join(appDir, outName);
  mkdirSync(dir, { recursive: true });
  let wasmPath: string | undefined;
  await build({
    root: appDir,
    configFile: false,
    logLevel: 'warn',
    plugins: [
      {
        name: 'worker-modules',
        enforce: 'pre',
        async resolveId(id, importer) {
          if (['./model.bin', './detector.bin', './model-int8.bin', './model-int8-conv.bin'].includes(id)) return { id, external: true };
          if (id === 'latent-wasm/wasm') {
            const r = await this.resolve(id, importer, { skipSelf: true });
            if (!r) throw new Error("latent-wasm/wasm did not resolve through the package's exports");
            wasmPath = r.id;
            return { id: './latent.wasm', external: true };
          }
          return null;
        },
      },
    ],
    build: {
      outDir: dir,
      emptyOutDir: true,
      minify: true,
      target: 'es2022',
      lib: { entry: join(appDir, 'worker.mjs'), formats: ['es'], fileName: 'worker' },
      // one file: the relaxed chunk (never loaded here) is inlined rather than split
      rollupOptions: { output: { codeSplitting: false } },
    },
  });
  if (!wasmPath) throw new Error('the worker did not import latent-wasm/wasm');
  copyFileSync(wasmPath, join(dir, 'latent.wasm'));
  writeFileSync(join(dir, 'model.bin'), model);
  writeFileSync(join(dir, 'detector.bin'), detector);
  writeFileSync(join(dir, 'model-int8.bin'), int8Model);
  writeFileSync(join(dir, 'model-int8-conv.bin'), int8ConvModel);
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "main", worker = .worker)]);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "latent.wasm", wasm = embed "latent.wasm"),
    (name = "model.bin", data = embed "model.bin"),
    (name = "detector.bin", data = embed "detector.bin"),
    (name = "model-int8.bin", data = embed "model-int8.bin"),
    (name = "model-int8-conv.bin", data = embed "model-int8-conv.bin"),
  ],
  compatibilityDate = "2025-01-01",
);
`,
  );
  return {
    dir, worker: join(dir, 'worker.js'), wasm: join(dir, 'latent.wasm'), model: join(dir, 'model.bin'), detector: join(dir, 'detector.bin'),
    int8Model: join(dir, 'model-int8.bin'), int8ConvModel: join(dir, 'model-int8-conv.bin'),
  };
}
