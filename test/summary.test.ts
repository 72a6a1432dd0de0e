// model.summary(): one row per torch.nn module under PyTorch's names, output shapes, parameter
// counts from the closed forms (Linear: in·out + out; Conv2d: out·in·k² + out), totals equal to
// the model's real parameters.
import { describe, expect, test } from 'vitest';
import { Autoencoder, ConvAutoencoder, DisposedError, SparseAutoencoder, VAE, init } from '../src/index.js';

await init();

interface Row { name: string; type: string; shape: number[]; params: number }

/** Parses the table back into rows (the format is the contract users read). */
function parse(table: string): { title: string; rows: Row[]; total: number } {
  const lines = table.split('\n');
  const rows: Row[] = [];
  for (const line of lines) {
    const m = /^(\S+) \((\w+)\)\s+\(None, ([\d, ]+)\)\s+([\d,]+)$/.exec(line);
    if (m) rows.push({ name: m[1], type: m[2], shape: m[3].split(', ').map(Number), params: Number(m[4].replace(/,/g, '')) });
  }
  const total = Number(/^Total params: ([\d,]+)/m.exec(table)![1].replace(/,/g, ''));
  return { title: lines[0], rows, total };
}

const realCount = (m: { params(): { shape: readonly number[] }[] }) =>
  m.params().reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

describe('summary', () => {
  test('dense autoencoder: names, shapes and counts from the closed form', () => {
    const ae = new Autoencoder({ inputSize: 784, hidden: [256], latentSize: 64, latentActivation: 'relu', seed: 1 });
    const { title, rows, total } = parse(ae.summary());
    expect(title).toBe('Model: Autoencoder (autoencoder)');
    expect(rows.map((r) => `${r.name} ${r.type} ${r.shape.join('x')} ${r.params}`)).toEqual([
      'input Input 784 0',
      `encoder.0 Linear 256 ${784 * 256 + 256}`,
      'encoder.1 ReLU 256 0',
      `encoder.2 Linear 64 ${256 * 64 + 64}`,
      'encoder.3 ReLU 64 0',
      `decoder.0 Linear 256 ${64 * 256 + 256}`,
      'decoder.1 ReLU 256 0',
      `decoder.2 Linear 784 ${256 * 784 + 784}`,
      'decoder.3 Sigmoid 784 0',
    ]);
    expect(total).toBe(realCount(ae));
    expect(total).toBe(2 * (784 * 256 + 256) + 256 * 64 + 64 + 64 * 256 + 784);
    // every weight name of the model file is a module named in the table
    const names = new Set(rows.map((r) => r.name));
    for (const p of ae.params()) expect(names.has(p.name.replace(/\.(weight|bias)$/, ''))).toBe(true);
    ae.dispose();
    expect(() => ae.summary()).toThrow(DisposedError);
  });

  test('VAE: trunk, the mu and logvar heads, decoder', () => {
    const vae = new VAE({ inputSize: 20, hidden: [12], latentSize: 3, activation: 'tanh', seed: 1 });
    const { title, rows, total } = parse(vae.summary());
    expect(title).toBe('Model: VAE (vae)');
    expect(rows.map((r) => `${r.name} ${r.type} ${r.params}`)).toEqual([
      'input Input 0', 'encoder.0 Linear 252', 'encoder.1 Tanh 0', 'mu Linear 39', 'logvar Linear 39',
      'decoder.0 Linear 48', 'decoder.1 Tanh 0', 'decoder.2 Linear 260', 'decoder.3 Sigmoid 0',
    ]);
    expect(total).toBe(realCount(vae));
    vae.dispose();
  });

  test('conv autoencoder: C×H×W shapes, Conv2d counts, Flatten/Unflatten', () => {
    const conv = new ConvAutoencoder({ inputShape: [1, 28, 28], filters: [4, 8], kernelSize: 3, stride: 2, latentSize: 10, seed: 1 });
    const { rows, total } = parse(conv.summary());
    expect(rows[0]).toEqual({ name: 'input', type: 'Input', shape: [1, 28, 28], params: 0 });
    const convs = rows.filter((r) => r.type === 'Conv2d');
    expect(convs.map((r) => r.params)).toEqual([4 * 1 * 9 + 4, 8 * 4 * 9 + 8]);
    expect(rows.some((r) => r.type === 'Flatten')).toBe(true);
    expect(rows.at(-1)!.shape).toEqual([1, 28, 28]);
    expect(total).toBe(realCount(conv));
    // a row's name is the index of its module in the torch Sequential: strictly increasing
    for (const prefix of ['encoder', 'decoder']) {
      const idx = rows.filter((r) => r.name.startsWith(`${prefix}.`)).map((r) => Number(r.name.split('.')[1]));
      expect(idx).toEqual(idx.map((_, i) => i));
    }
    conv.dispose();
  });

  test('sparse autoencoder: same table as its architecture', () => {
    const s = new SparseAutoencoder({ inputSize: 10, hidden: [], latentSize: 4, sparsity: { l1: 1e-3 }, seed: 1 });
    expect(parse(s.summary()).total).toBe(10 * 4 + 4 + 4 * 10 + 10);
    expect(parse(s.summary()).title).toBe('Model: SparseAutoencoder (sparseAutoencoder)');
    s.dispose();
  });
});
