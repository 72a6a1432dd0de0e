// The layers of nn/ in one import for models and I/O: the Layer interface and Param, every layer
// kind (one file each), Sequential with the registry of kinds, and the layer specs.
export type { Layer, LayerFactory, Param } from './layer.js';
export type * from './specs.js';
export { activationSpec, layerActivation, type Activation } from './activation.js';
export { Dense } from './dense.js';
export { Conv2d, ConvTranspose2d } from './conv.js';
export { Pool2d } from './pool.js';
export { Upsample } from './upsample.js';
export { Reshape } from './reshape.js';
export { Dropout, checkDropoutSpec } from './dropout.js';
export { LAYERS, Sequential } from './sequential.js';
