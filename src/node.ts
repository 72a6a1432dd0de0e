/**
 * Node-only helpers (`latent-wasm/node`): model files on disk. Kept out of the main entry so
 * browsers and edge runtimes never see node: imports.
 */
import { readFileBytes, writeFileAtomic } from './io/node.js';
import { loadModel, type AnyModel } from './io/load-model.js';
import { QuantizedModel } from './models/quantized.js';
import type { SavableModel, SaveOptions } from './io/model-file.js';
import { saveModel } from './io/model-file.js';

/** Saves a model to `path` atomically: a temporary file in the same folder, fsync, rename. The
 *  previous file at `path` stays intact if anything fails before the rename. */
export async function saveFile(model: SavableModel | QuantizedModel, path: string, options?: SaveOptions): Promise<void> {
  await writeFileAtomic(path, model instanceof QuantizedModel ? model.save() : saveModel(model, options));
}

/** Loads a model file written by saveFile or `model.save()`. Call `init()` first. */
export async function loadFile(path: string): Promise<AnyModel | QuantizedModel> {
  return loadModel(await readFileBytes(path));
}

export { writeFileAtomic, readFileBytes };
