export { init, liveTensors, runtimeInfo, simdMode, type RuntimeInfo } from './runtime/context.js';
export { detectFeatures, type InitOptions, type SimdMode } from './runtime/load.js';
export {
  LatentError,
  InputError,
  ShapeError,
  FormatError,
  DisposedError,
  RuntimeError,
  TrainingError,
} from './errors.js';
export type { Matrix } from './data.js';
export type { ActivationName } from './runtime/kernels.js';
export type { InitName } from './nn/init.js';
export type { OptimizerConfig, OptimizerName } from './nn/optimizers.js';
export type { FitOptions, History, EpochLogs, BatchLogs, EarlyStopping, LearningRateSchedule } from './train/fit.js';
export type { DataSource, Batches } from './train/source.js';
export type { LayerSpec, DenseSpec, DropoutSpec } from './nn/specs.js';
export {
  Autoencoder,
  DenoisingAutoencoder,
  SparseAutoencoder,
  type AutoencoderConfig,
  type ResolvedAutoencoderConfig,
  type NoiseConfig,
  type ResolvedNoise,
  type SparsityConfig,
  type Activation,
  type LossName,
  type LayersDescription,
} from './models/autoencoder.js';
export { VAE, type VAEConfig, type ResolvedVAEConfig } from './models/vae.js';
export { loadModel, type AnyModel } from './io/load-model.js';
export {
  QuantizedModel,
  type QuantizeOptions,
  type QuantizedConfig,
  type QuantizedLayerConfig,
  type QuantizedLayer,
  type ActivationQuantization,
} from './models/quantized.js';
export { toOnnx, type OnnxOptions } from './io/onnx.js';
export { FORMAT_VERSION, type SaveOptions } from './io/model-file.js';
export { readSafetensors, writeSafetensors, toFloat32, type SafetensorsFile, type TensorEntry, type TensorToWrite } from './io/safetensors.js';
export { readIdx, idxToFloat32, type IdxFile } from './io/idx.js';
export { VERSION } from './version.js';
export { ConvAutoencoder, type ConvAutoencoderConfig } from './models/conv-autoencoder.js';
export type { Conv2dSpec, ConvTranspose2dSpec, Pool2dSpec, UpsampleSpec, FlattenSpec, ReshapeSpec } from './nn/specs.js';
export type { Normalizer, NormalizeKind, NormalizeOption } from './models/normalizer.js';
export type { ScoreMetric, ScoreOptions, CalibrationRule, Detection } from './models/detector.js';
export { rocAuc, averagePrecision, precisionRecallCurve, confusion, type PrecisionRecallCurve, type Confusion } from './metrics.js';
export { tileGrid, pairRows, type GridOptions, type ImageGrid } from './image.js';
