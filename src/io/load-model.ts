import { Autoencoder, DenoisingAutoencoder, SparseAutoencoder } from '../models/autoencoder.js';
import { VAE } from '../models/vae.js';
import { ConvAutoencoder } from '../models/conv-autoencoder.js';
import { QuantizedModel, loadQuantized } from '../models/quantized.js';
import { loadModelFile } from './model-file.js';

/** Every model class loadModel can rebuild; each names its `kind`. */
const MODELS = [Autoencoder, DenoisingAutoencoder, SparseAutoencoder, VAE, ConvAutoencoder] as const;

/** Any model of the family (trainable). */
export type AnyModel = Autoencoder | DenoisingAutoencoder | SparseAutoencoder | VAE | ConvAutoencoder;

/**
 * Rebuilds a model saved by `model.save()`: the right class, the same architecture, the same
 * weights (bitwise) and, when saved with them, the optimizer and RNG state. Synchronous after
 * `init()`. Any problem with the bytes is a FormatError that says what and where. When the
 * class is known, `VAE.load(bytes)` (and so on) returns that class. A file written by
 * QuantizedModel.save() gives a QuantizedModel (int8, inference only; narrow with `instanceof`
 * or `kind === 'quantized'`).
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer): AnyModel | QuantizedModel {
  return loadModelFile<AnyModel, QuantizedModel>(bytes, MODELS, { quantized: loadQuantized });
}
