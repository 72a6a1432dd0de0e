import { InputError } from '../errors.js';
import type { Kernels } from '../runtime/kernels.js';
import type { Tensor } from '../runtime/memory.js';
import { chw, size2, where } from './geometry.js';
import { Plain } from './layer.js';
import type { UpsampleSpec } from './specs.js';

/** torch.nn.Upsample with integer scale factors, 'nearest' or 'bilinear' (align_corners=False). */
export class Upsample extends Plain {
  readonly mode: 'nearest' | 'bilinear';
  readonly fh: number;
  readonly fw: number;
  private dx: Tensor | null = null;
  private capacity = 0;

  constructor(k: Kernels, inShape: readonly number[], readonly spec: UpsampleSpec, prefix: string, needsInputGrad: boolean) {
    const at = where(prefix, 'upsample');
    const [fh, fw] = size2(spec.scale, `${at}: scale`, 1);
    const mode = spec.mode ?? 'nearest';
    if (mode !== 'nearest' && mode !== 'bilinear') throw new InputError(`${at}: mode must be 'nearest' or 'bilinear'; got ${JSON.stringify(mode)}`);
    const [c, h, w] = chw(inShape, at);
    super(k, inShape, [c, h * fh, w * fw], needsInputGrad);
    this.mode = mode;
    this.fh = fh;
    this.fw = fw;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.dispose();
    const a = this.k.arena;
    this.y = a.alloc(rows * this.outSize);
    if (this.needsInputGrad) this.dx = a.alloc(rows * this.inSize);
    this.capacity = rows;
  }

  forward(x: Tensor, rows: number, _training = false): Tensor {
    const [c, h, w] = this.inShape;
    this.k.upsample(this.mode, x, this.y!, rows * c, h, w, this.fh, this.fw);
    return this.y!;
  }

  backward(dy: Tensor, rows: number, _dyIsPreActivation = false): Tensor | null {
    if (!this.dx) return null;
    const [c, h, w] = this.inShape;
    this.k.upsampleBackward(this.mode, dy, this.dx, rows * c, h, w, this.fh, this.fw);
    return this.dx;
  }

  dispose(): void {
    const a = this.k.arena;
    for (const t of [this.y, this.dx]) if (t) a.release(t);
    this.y = this.dx = null;
    this.capacity = 0;
  }
}

