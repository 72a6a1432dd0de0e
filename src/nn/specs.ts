// The JSON layer specs a model description is made of (what a model file stores), one place for
// every layer kind so the layer files and the registry import types without a cycle.
import type { ActivationName } from '../runtime/kernels.js';

/** JSON description of a dense layer: the unit of the `layers` description a model is built from. */
export interface DenseSpec {
  type: 'dense';
  units: number;
  activation: ActivationName;
  /** leakyRelu slope / elu alpha; PyTorch's default when absent. */
  alpha?: number;
}

/** JSON description of a dropout layer: each value is zeroed with probability `rate` in training. */
export interface DropoutSpec {
  type: 'dropout';
  rate: number;
}

// Convolutional layers work on NCHW samples, PyTorch's semantics (torch.nn, 2.x) and layouts.

/** A size per spatial axis: one number for both, or [height, width]. */
export type Size2 = number | [number, number];

/** torch.nn.Conv2d (+ its activation): `filters` output channels. */
export interface Conv2dSpec {
  type: 'conv2d';
  filters: number;
  kernelSize: Size2;
  /** Default 1. */
  stride?: Size2;
  /** Zero padding; default 0. */
  padding?: Size2;
  /** Default 1. */
  dilation?: Size2;
  /** Default 'linear'. */
  activation?: ActivationName;
  alpha?: number;
}

/** torch.nn.ConvTranspose2d (+ its activation). Output size per axis:
 *  (in − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1. */
export interface ConvTranspose2dSpec {
  type: 'convTranspose2d';
  filters: number;
  kernelSize: Size2;
  stride?: Size2;
  padding?: Size2;
  /** Default 0; must be smaller than the stride or the dilation (PyTorch's rule). */
  outputPadding?: Size2;
  dilation?: Size2;
  activation?: ActivationName;
  alpha?: number;
}

/** torch.nn.MaxPool2d / AvgPool2d (count_include_pad = true, floor mode). Stride defaults to the
 *  kernel size, padding to 0 (at most half the kernel). */
export interface Pool2dSpec {
  type: 'maxPool2d' | 'avgPool2d';
  kernelSize: Size2;
  stride?: Size2;
  padding?: Size2;
}

/** torch.nn.Upsample(scale_factor=scale, mode), integer scales; bilinear with align_corners=False. */
export interface UpsampleSpec {
  type: 'upsample';
  scale: Size2;
  /** Default 'nearest' (PyTorch's default). */
  mode?: 'nearest' | 'bilinear';
}

/** torch.nn.Flatten: [C, H, W] → [C·H·W]. */
export interface FlattenSpec {
  type: 'flatten';
}

/** torch.nn.Unflatten(1, shape): [n] (or any shape) → `shape`, the same values. */
export interface ReshapeSpec {
  type: 'reshape';
  shape: number[];
}

export type ConvLayerSpec = Conv2dSpec | ConvTranspose2dSpec | Pool2dSpec | UpsampleSpec | FlattenSpec | ReshapeSpec;

/** Every layer a model description can hold. (Other layer kinds add their spec here.) */
export type LayerSpec = DenseSpec | DropoutSpec | ConvLayerSpec;
