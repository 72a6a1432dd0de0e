// Loading a model file, and checking data against the model's input width.
import { readFileBytes, loadFile } from 'latent-wasm/node';
import { DataError } from './errors.mjs';

/** The model in the file at `path`; a file that is not a model names the path and the reason. */
export async function loadModelFile(path) {
  await readFileBytes(path); // a missing file fails here as a file error, with its path
  try {
    return await loadFile(path);
  } catch (e) {
    if (e?.name === 'FormatError') throw new DataError(`${path}: not a latent-wasm model file (${e.message})`);
    throw e;
  }
}

/** Data rows must have the model's input width. */
export function checkWidth(data, model, dataPath) {
  if (data.width !== model.inputSize) {
    throw new DataError(`${dataPath}: rows have ${data.width} values; the model takes ${model.inputSize}`);
  }
}
