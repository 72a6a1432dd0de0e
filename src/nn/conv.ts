import { checkInt } from '../data.js';
import { InputError, ShapeError } from '../errors.js';
import { ACTIVATIONS, type ActivationName, type ConvGeometry, type Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { layerActivation } from './activation.js';
import { chw, size2, where } from './geometry.js';
import { initDense, type InitName } from './init.js';
import { product, type Layer, type Param } from './layer.js';
import type { Conv2dSpec, ConvTranspose2dSpec } from './specs.js';

// Convolutions over NCHW samples, PyTorch's semantics (torch.nn, 2.x) and tensor layouts.
// Per-sample shapes are [C, H, W]; a batch is `rows` samples one after another, so the rows a
// model takes are flattened [C·H·W] samples.

/** Shared by Conv2d and ConvTranspose2d: parameters, pre-activation and output, the epilogue. */
abstract class ConvBase implements Layer {
  abstract readonly spec: Conv2dSpec | ConvTranspose2dSpec;
  readonly weight: Param;
  readonly bias: Param;
  readonly act: number;
  readonly alpha: number;
  readonly activationName: ActivationName;
  readonly modules: number;
  readonly inSize: number;
  readonly outSize: number;
  /** Column buffer for the whole batch, [C·KH·KW, rows·OH·OW] in the geometry `g` (batched layout). */
  protected col: Tensor | null = null;
  /** The channel-major [channels, rows, H·W] twin of an NCHW tensor that the batch GEMMs read or
   *  write: a conv's output (and its gradient), a transposed conv's input (and its gradient). */
  protected t: Tensor | null = null;
  protected z: Tensor | null = null;
  protected y: Tensor | null = null;
  protected dx: Tensor | null = null;
  protected capacity = 0;

  constructor(
    protected readonly k: Kernels,
    readonly inShape: readonly number[],
    readonly outShape: readonly number[],
    /** The window as im2col sees it: a conv's own, or the conv that a transposed conv inverts. */
    readonly g: ConvGeometry,
    weightShape: number[],
    activation: { name: ActivationName; act: number; alpha: number },
    prefix: string,
    protected readonly needsInputGrad: boolean,
  ) {
    this.inSize = product(inShape);
    this.outSize = product(outShape);
    this.act = activation.act;
    this.alpha = activation.alpha;
    this.activationName = activation.name;
    this.modules = activation.name === 'linear' ? 1 : 2;
    const a = k.arena;
    const wn = product(weightShape);
    const channels = outShape[0];
    this.weight = { name: `${prefix}.weight`, shape: weightShape, value: a.alloc(wn), grad: a.alloc(wn) };
    this.bias = { name: `${prefix}.bias`, shape: [channels], value: a.alloc(channels), grad: a.alloc(channels) };
  }

  abstract init(rng: Rng, name: InitName): void;
  /** Values per sample of `t`. */
  protected abstract get tSize(): number;
  abstract forward(x: Tensor, rows: number, training: boolean): Tensor;
  abstract backward(dy: Tensor, rows: number, dyIsPreActivation: boolean): Tensor | null;

  /** Values per sample of the column buffer. */
  get colSize(): number {
    const g = this.g;
    return g.c * g.kh * g.kw * g.oh * g.ow;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.releaseBuffers();
    const a = this.k.arena;
    this.col = a.alloc(rows * this.colSize);
    this.t = a.alloc(rows * this.tSize);
    this.z = a.alloc(rows * this.outSize);
    this.y = this.act === ACTIVATIONS.linear ? this.z : a.alloc(rows * this.outSize);
    if (this.needsInputGrad) this.dx = a.alloc(rows * this.inSize);
    this.capacity = rows;
  }

  get output(): Tensor {
    return this.y!;
  }

  get preActivation(): Tensor {
    return this.z!;
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }

  dispose(): void {
    this.releaseBuffers();
    const a = this.k.arena;
    for (const p of this.params()) {
      a.release(p.value);
      a.release(p.grad);
    }
  }

  /** z += bias per channel, y = f(z). */
  protected epilogue(rows: number): Tensor {
    const [c, h, w] = this.outShape;
    this.k.biasChannelsAct(this.act, this.alpha, this.z!, this.bias.value, this.y!, rows, c, h * w);
    return this.y!;
  }

  /** dy → dL/dz in place (unless it already is), and the bias gradient. */
  protected backEpilogue(dy: Tensor, rows: number, dyIsPreActivation: boolean): void {
    if (!dyIsPreActivation && this.act !== ACTIVATIONS.linear) {
      this.k.actBackward(this.act, this.alpha, this.z!, this.y!, dy, dy, rows * this.outSize);
    }
    const [c, h, w] = this.outShape;
    this.k.channelSum(dy, this.bias.grad, rows, c, h * w);
  }

  private releaseBuffers(): void {
    const a = this.k.arena;
    if (this.y && this.y !== this.z) a.release(this.y);
    for (const t of [this.z, this.col, this.t, this.dx]) if (t) a.release(t);
    this.z = this.y = this.col = this.t = this.dx = null;
    this.capacity = 0;
  }
}

/**
 * y = f(conv2d(x, W) + b), W [out, in, kh, kw] as torch.nn.Conv2d. Forward: im2col of the whole
 * batch into col [in·kh·kw, rows·OH·OW], one GEMM Zᵗ = W[out, in·kh·kw]·col ([out, rows, OH·OW]),
 * swapped to NCHW, then the per-channel bias + activation. Backward: dZ swapped to [out, rows,
 * OH·OW], dW = dZᵗ·colᵀ, db = Σ dZ, and unless this is the first layer dcol = Wᵀ·dZᵗ (written
 * over col, no longer needed) scattered back by col2im. One GEMM per pass for the whole batch.
 */
export class Conv2d extends ConvBase {
  constructor(k: Kernels, inShape: readonly number[], readonly spec: Conv2dSpec, prefix: string, needsInputGrad: boolean) {
    const at = where(prefix, 'conv2d');
    const filters = checkInt(spec.filters, `${at}: filters`, 1);
    const [kh, kw] = size2(spec.kernelSize, `${at}: kernelSize`, 1);
    const [sh, sw] = size2(spec.stride, `${at}: stride`, 1, [1, 1]);
    const [ph, pw] = size2(spec.padding, `${at}: padding`, 0, [0, 0]);
    const [dh, dw] = size2(spec.dilation, `${at}: dilation`, 1, [1, 1]);
    const activation = layerActivation(spec, at);
    const [c, h, w] = chw(inShape, at);
    const eh = dh * (kh - 1) + 1;
    const ew = dw * (kw - 1) + 1;
    if (eh > h + 2 * ph || ew > w + 2 * pw) {
      throw new ShapeError(`${at}: the kernel (${eh}×${ew} with dilation) is larger than the padded input ` +
        `(${h + 2 * ph}×${w + 2 * pw} from [${inShape.join(', ')}] with padding ${ph}, ${pw})`);
    }
    const oh = Math.floor((h + 2 * ph - eh) / sh) + 1;
    const ow = Math.floor((w + 2 * pw - ew) / sw) + 1;
    const g: ConvGeometry = { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
    super(k, inShape, [filters, oh, ow], g, [filters, c, kh, kw], activation, prefix, needsInputGrad);
  }

  init(rng: Rng, name: InitName): void {
    // PyTorch's fans for a conv weight [out, in, kh, kw]: in·kh·kw and out·kh·kw
    const kk = this.g.kh * this.g.kw;
    initDense(this.k, rng, name, this.weight.value, this.bias.value, this.g.c * kk, this.outShape[0] * kk);
  }

  protected get tSize(): number {
    return this.outSize;
  }

  forward(x: Tensor, rows: number, _training = false): Tensor {
    const g = this.g;
    const ckk = g.c * g.kh * g.kw;
    const ohw = g.oh * g.ow;
    const out = this.outShape[0];
    this.k.im2col(x, this.col!, rows, g, true);
    this.k.gemm('nn', out, rows * ohw, ckk, this.weight.value, this.col!, this.t!);
    this.k.swapBlocks(this.t!, this.z!, out, rows, ohw);
    return this.epilogue(rows);
  }

  backward(dy: Tensor, rows: number, dyIsPreActivation = false): Tensor | null {
    const g = this.g;
    const ckk = g.c * g.kh * g.kw;
    const ohw = g.oh * g.ow;
    const out = this.outShape[0];
    this.backEpilogue(dy, rows, dyIsPreActivation);
    this.k.swapBlocks(dy, this.t!, rows, out, ohw);
    this.k.gemm('nt', out, ckk, rows * ohw, this.t!, this.col!, this.weight.grad);
    if (!this.dx) return null;
    this.k.gemm('tn', ckk, rows * ohw, out, this.weight.value, this.t!, this.col!);
    this.k.col2im(this.col!, this.dx, rows, g, true);
    return this.dx;
  }
}

/**
 * torch.nn.ConvTranspose2d, W [in, out, kh, kw]: the adjoint of a conv from [out, OH, OW] to
 * [in, H, W]. Forward: x swapped to xᵗ [in, rows, H·W], one GEMM col = Wᵀ·xᵗ (W as
 * [in, out·kh·kw]), col2im into the output, bias + activation. Backward: db = Σ dZ,
 * dcol = im2col(dZ), dW = xᵗ·dcolᵀ, and dxᵗ = W·dcol (over xᵗ, no longer needed) swapped back.
 */
export class ConvTranspose2d extends ConvBase {
  constructor(k: Kernels, inShape: readonly number[], readonly spec: ConvTranspose2dSpec, prefix: string, needsInputGrad: boolean) {
    const at = where(prefix, 'convTranspose2d');
    const filters = checkInt(spec.filters, `${at}: filters`, 1);
    const [kh, kw] = size2(spec.kernelSize, `${at}: kernelSize`, 1);
    const [sh, sw] = size2(spec.stride, `${at}: stride`, 1, [1, 1]);
    const [ph, pw] = size2(spec.padding, `${at}: padding`, 0, [0, 0]);
    const [oph, opw] = size2(spec.outputPadding, `${at}: outputPadding`, 0, [0, 0]);
    const [dh, dw] = size2(spec.dilation, `${at}: dilation`, 1, [1, 1]);
    if (oph >= Math.max(sh, dh) || opw >= Math.max(sw, dw)) {
      throw new InputError(`${at}: outputPadding must be smaller than the stride or the dilation; got ${oph}, ${opw} ` +
        `with stride ${sh}, ${sw} and dilation ${dh}, ${dw}`);
    }
    const activation = layerActivation(spec, at);
    const [c, ih, iw] = chw(inShape, at);
    const oh = (ih - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
    const ow = (iw - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
    if (oh < 1 || ow < 1) {
      throw new ShapeError(`${at}: the output would be ${oh}×${ow} for input [${inShape.join(', ')}]: the padding (${ph}, ${pw}) ` +
        'is too large for this kernel and stride');
    }
    // im2col's geometry is the conv this layer is the adjoint of: from the output back to the input
    const g: ConvGeometry = { c: filters, h: oh, w: ow, kh, kw, sh, sw, ph, pw, dh, dw, oh: ih, ow: iw };
    super(k, inShape, [filters, oh, ow], g, [c, filters, kh, kw], activation, prefix, needsInputGrad);
  }

  init(rng: Rng, name: InitName): void {
    // PyTorch computes fans from the weight tensor [in, out, kh, kw] as for any conv weight:
    // fan_in = size(1)·kh·kw = out·kh·kw, fan_out = size(0)·kh·kw = in·kh·kw
    const kk = this.g.kh * this.g.kw;
    initDense(this.k, rng, name, this.weight.value, this.bias.value, this.outShape[0] * kk, this.inShape[0] * kk);
  }

  protected get tSize(): number {
    return this.inSize;
  }

  forward(x: Tensor, rows: number, _training = false): Tensor {
    const g = this.g;
    const cin = this.inShape[0];
    const okk = g.c * g.kh * g.kw;
    const ihw = g.oh * g.ow;
    this.k.swapBlocks(x, this.t!, rows, cin, ihw);
    this.k.gemm('tn', okk, rows * ihw, cin, this.weight.value, this.t!, this.col!);
    this.k.col2im(this.col!, this.z!, rows, g, true);
    return this.epilogue(rows);
  }

  backward(dy: Tensor, rows: number, dyIsPreActivation = false): Tensor | null {
    const g = this.g;
    const cin = this.inShape[0];
    const okk = g.c * g.kh * g.kw;
    const ihw = g.oh * g.ow;
    this.backEpilogue(dy, rows, dyIsPreActivation);
    this.k.im2col(dy, this.col!, rows, g, true);
    this.k.gemm('nt', cin, okk, rows * ihw, this.t!, this.col!, this.weight.grad);
    if (!this.dx) return null;
    this.k.gemm('nn', cin, rows * ihw, okk, this.weight.value, this.col!, this.t!);
    this.k.swapBlocks(this.t!, this.dx, cin, rows, ihw);
    return this.dx;
  }
}
