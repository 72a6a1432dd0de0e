import { InputError, ShapeError } from '../errors.js';
import type { ConvGeometry, Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import { chw, size2, where } from './geometry.js';
import { Plain } from './layer.js';
import type { Pool2dSpec } from './specs.js';

/** Max or average pooling (torch.nn.MaxPool2d / AvgPool2d); max pooling keeps argmax indices. */
export class Pool2d extends Plain {
  readonly g: ConvGeometry;
  private idx: Tensor | null = null;
  private dx: Tensor | null = null;
  private capacity = 0;

  constructor(k: Kernels, inShape: readonly number[], readonly spec: Pool2dSpec, prefix: string, needsInputGrad: boolean) {
    const at = where(prefix, spec.type);
    const [kh, kw] = size2(spec.kernelSize, `${at}: kernelSize`, 1);
    const [sh, sw] = size2(spec.stride, `${at}: stride`, 1, [kh, kw]);
    const [ph, pw] = size2(spec.padding, `${at}: padding`, 0, [0, 0]);
    if (2 * ph > kh || 2 * pw > kw) throw new InputError(`${at}: padding must be at most half the kernel size; got ${ph}, ${pw} for ${kh}×${kw}`);
    const [c, h, w] = chw(inShape, at);
    if (kh > h + 2 * ph || kw > w + 2 * pw) {
      throw new ShapeError(`${at}: the window ${kh}×${kw} is larger than the padded input ${h + 2 * ph}×${w + 2 * pw} (input [${inShape.join(', ')}])`);
    }
    const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
    const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
    super(k, inShape, [c, oh, ow], needsInputGrad);
    this.g = { c, h, w, kh, kw, sh, sw, ph, pw, dh: 1, dw: 1, oh, ow };
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.dispose();
    const a = this.k.arena;
    this.y = a.alloc(rows * this.outSize);
    if (this.spec.type === 'maxPool2d') this.idx = a.alloc(rows * this.outSize);
    if (this.needsInputGrad) this.dx = a.alloc(rows * this.inSize);
    this.capacity = rows;
  }

  forward(x: Tensor, rows: number, _training = false): Tensor {
    if (this.spec.type === 'maxPool2d') this.k.maxPool(x, this.y!, this.idx!, rows, this.g);
    else this.k.avgPool(x, this.y!, rows, this.g);
    return this.y!;
  }

  backward(dy: Tensor, rows: number, _dyIsPreActivation = false): Tensor | null {
    if (!this.dx) return null;
    if (this.spec.type === 'maxPool2d') this.k.maxPoolBackward(dy, this.idx!, this.dx, rows, this.g);
    else this.k.avgPoolBackward(dy, this.dx, rows, this.g);
    return this.dx;
  }

  dispose(): void {
    const a = this.k.arena;
    for (const t of [this.y, this.idx, this.dx]) if (t) a.release(t);
    this.y = this.idx = this.dx = null;
    this.capacity = 0;
  }
}

