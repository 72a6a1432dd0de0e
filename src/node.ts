/**
 * Node-only helpers (`latent-wasm/node`): model files on disk. Kept out of the main entry so
 * browsers and edge runtimes never see node: imports.
 */
import { readFileBytes, writeFileAtomic } from './io/node.js';
import { loadModel, type AnyModel } from './io/load-model.js';
import { QuantizedModel } from './models/quantized.js';
import type { SavableModel, SaveOptions } from './io/model-file.js';
import { saveModel } from './io/model-file.js';
import { InputError, RuntimeError } from './errors.js';
import type { ImageGrid } from './image.js';

/** Saves a model to `path` atomically: a temporary file in the same folder, fsync, rename. The
 *  previous file at `path` stays intact if anything fails before the rename. */
export async function saveFile(model: SavableModel | QuantizedModel, path: string, options?: SaveOptions): Promise<void> {
  await writeFileAtomic(path, model instanceof QuantizedModel ? model.save() : saveModel(model, options));
}

/** Loads a model file written by saveFile or `model.save()`. Call `init()` first. */
export async function loadFile(path: string): Promise<AnyModel | QuantizedModel> {
  return loadModel(await readFileBytes(path));
}

/** The subset of pngjs (an optional peer dependency) that encodePng uses. */
interface PngJs {
  PNG: { sync: { write(png: { width: number; height: number; data: Uint8Array }, options: { colorType: number }): Uint8Array } };
}

let pngjs: Promise<PngJs> | null = null;

/** pngjs, loaded on first use: the library itself has no runtime dependency, so it is an
 *  optional peer dependency that only PNG writing needs. */
async function loadPngJs(): Promise<PngJs> {
  // a variable specifier: bundlers and tsc leave the optional package alone
  const name = 'pngjs';
  pngjs ??= import(name).then(
    (m: { default?: PngJs } & Partial<PngJs>) => (m.PNG ? (m as PngJs) : m.default!),
    (e: unknown) => {
      pngjs = null;
      const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      throw new RuntimeError(missing
        ? 'encodePng/writePng need the package pngjs, an optional peer dependency of latent-wasm: npm install pngjs'
        : `encodePng/writePng could not load pngjs: ${(e as Error).message}`);
    },
  );
  return pngjs;
}

/** The PNG file of an image grid (see tileGrid): 8-bit gray or RGB, encoded by pngjs. */
export async function encodePng(image: ImageGrid): Promise<Uint8Array> {
  const { width, height, channels, data } = image ?? {};
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || (channels !== 1 && channels !== 3) ||
      !(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new InputError('encodePng: image must be { width, height, channels: 1 | 3, data: Uint8Array of width·height·channels } (see tileGrid)');
  }
  const { PNG } = await loadPngJs();
  // pngjs takes RGBA input whatever the output colour type: expand, then store gray as gray
  const rgba = new Uint8Array(width * height * 4);
  const [g, b] = channels === 3 ? [1, 2] : [0, 0];
  for (let i = 0, o = 0; o < rgba.length; i += channels, o += 4) {
    rgba[o] = data[i];
    rgba[o + 1] = data[i + g];
    rgba[o + 2] = data[i + b];
    rgba[o + 3] = 255;
  }
  const png = PNG.sync.write({ width, height, data: rgba }, { colorType: channels === 1 ? 0 : 2 });
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Writes an image grid (see tileGrid) to `path` as a PNG, atomically. Needs pngjs installed. */
export async function writePng(path: string, image: ImageGrid): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}

export { writeFileAtomic, readFileBytes };
export { tileGrid, pairRows, type GridOptions, type ImageGrid } from './image.js';
