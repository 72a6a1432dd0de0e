import { FormatError, LatentError } from '../errors.js';
import { Autoencoder, DenoisingAutoencoder, SparseAutoencoder } from '../models/autoencoder.js';
import { VAE } from '../models/vae.js';
import { ConvAutoencoder } from '../models/conv-autoencoder.js';
import { QuantizedModel, loadQuantized } from '../models/quantized.js';
import { loadTensorsInto, readModelHeader } from './model-file.js';

/** Every model class loadModel can rebuild, by its `kind`. */
const MODELS: Record<string, new (config: never) => AnyModel> = {
  autoencoder: Autoencoder,
  denoisingAutoencoder: DenoisingAutoencoder,
  sparseAutoencoder: SparseAutoencoder,
  vae: VAE,
  convAutoencoder: ConvAutoencoder,
};

/** Any model of the family (trainable). */
export type AnyModel = Autoencoder | DenoisingAutoencoder | SparseAutoencoder | VAE | ConvAutoencoder;

/**
 * Rebuilds a model saved by `model.save()`: the right class, the same architecture, the same
 * weights (bitwise) and, when saved with them, the optimizer and RNG state. Synchronous after
 * `init()`. A file written by QuantizedModel.save() gives a QuantizedModel (int8, inference
 * only; narrow with `instanceof` or `kind === 'quantized'`). Any problem with the bytes is a
 * FormatError that says what and where.
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer): AnyModel | QuantizedModel {
  const { file, kind, config } = readModelHeader(bytes as Uint8Array);
  if (kind === 'quantized') return loadQuantized(file, config);
  const Model = MODELS[kind];
  if (!Model) throw new FormatError(`unknown model kind '${kind}'; this library loads ${[...Object.keys(MODELS), 'quantized'].join(', ')}`);
  let model: AnyModel;
  try {
    model = new Model(config as never);
  } catch (e) {
    if (e instanceof LatentError && !(e instanceof FormatError) && e.name !== 'RuntimeError') {
      throw new FormatError(`the file's config does not describe a valid ${kind}: ${e.message}`);
    }
    throw e;
  }
  try {
    loadTensorsInto(model, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
