import type { ActivationName } from '../runtime/kernels.js';
import type { Layer } from '../nn/layer.js';
import type { Sequential } from '../nn/sequential.js';
import type { LayerSpec } from '../nn/specs.js';

/** One row of model.summary(): a torch.nn module, its output shape per sample, its parameters. */
interface SummaryRow {
  name: string;
  type: string;
  shape: readonly number[];
  params: number;
}

/** The torch.nn class each layer kind stands for (the per-layer description). */
const TORCH_LAYER: Record<LayerSpec['type'], string> = {
  dense: 'Linear',
  dropout: 'Dropout',
  conv2d: 'Conv2d',
  convTranspose2d: 'ConvTranspose2d',
  maxPool2d: 'MaxPool2d',
  avgPool2d: 'AvgPool2d',
  upsample: 'Upsample',
  flatten: 'Flatten',
  reshape: 'Unflatten',
};

/** The torch.nn class of each activation module (a layer's second module when not linear). */
const TORCH_ACTIVATION: Record<ActivationName, string> = {
  linear: 'Identity',
  relu: 'ReLU',
  leakyRelu: 'LeakyReLU',
  elu: 'ELU',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softplus: 'Softplus',
  gelu: 'GELU',
};

/** The parts of a model in forward order: a Sequential (modules named prefix.index, counted as
 *  torch.nn.Sequential counts them) or a single named layer (a VAE head, `mu`). */
export type SummaryPart = Sequential | { name: string; layer: Layer };

function rowsOf(part: SummaryPart): SummaryRow[] {
  const named: [string, Layer][] = [];
  if ('layer' in part) named.push([part.name, part.layer]);
  else {
    let index = 0;
    for (const layer of part.layers) {
      named.push([`${part.prefix}.${index}`, layer]);
      index += layer.modules;
    }
  }
  const rows: SummaryRow[] = [];
  for (const [name, layer] of named) {
    const params = layer.params().reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    rows.push({ name, type: TORCH_LAYER[layer.spec.type], shape: layer.outShape, params });
    if (layer.modules === 2) {
      // the activation is the next module of the torch Sequential: name it by its index
      const at = name.lastIndexOf('.');
      const next = at >= 0 ? `${name.slice(0, at)}.${Number(name.slice(at + 1)) + 1}` : `${name}.activation`;
      rows.push({ name: next, type: TORCH_ACTIVATION[layer.activationName], shape: layer.outShape, params: 0 });
    }
  }
  return rows;
}

const thousands = (n: number) => n.toLocaleString('en-US');
const shapeText = (shape: readonly number[]) => `(None, ${shape.join(', ')})`;

/**
 * A Keras-like table: one row per torch.nn module (PyTorch's names, so it reads like the
 * state_dict), the output shape with the batch axis as None, the parameter count; then totals.
 */
export function formatSummary(title: string, inputShape: readonly number[], parts: readonly SummaryPart[]): string {
  const rows: SummaryRow[] = [{ name: 'input', type: 'Input', shape: inputShape, params: 0 }, ...parts.flatMap(rowsOf)];
  const cells = rows.map((r) => [`${r.name} (${r.type})`, shapeText(r.shape), thousands(r.params)]);
  const head = ['Layer (type)', 'Output shape', 'Params'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `${c[0].padEnd(w[0])}  ${c[1].padEnd(w[1])}  ${c[2].padStart(w[2])}`;
  const rule = (ch: string) => ch.repeat(w[0] + w[1] + w[2] + 4);
  const total = rows.reduce((n, r) => n + r.params, 0);
  return [
    `Model: ${title}`,
    rule('='),
    line(head),
    rule('='),
    ...cells.map(line),
    rule('='),
    `Total params: ${thousands(total)} (${(total * 4 / 1024).toFixed(1)} KiB as float32)`,
    `Trainable params: ${thousands(total)}`,
    'Non-trainable params: 0',
  ].join('\n');
}
