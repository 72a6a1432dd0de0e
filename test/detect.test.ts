// Normalization inside the model, detectors (score, calibrate, predict, detect, featureErrors)
// and their place in model files, against independent references: float64 two-pass
// statistics, a model trained on rows normalized by hand, numpy's quantile written out, and
// per-row errors recomputed from reconstruct. Node and Chromium.
import { describe, expect, test } from 'vitest';
import {
  Autoencoder,
  ConvAutoencoder,
  VAE,
  InputError,
  ShapeError,
  FormatError,
  init,
  liveTensors,
  loadModel,
  readSafetensors,
  writeSafetensors,
  toFloat32,
  rocAuc,
  type AutoencoderConfig,
} from '../src/index.js';
import { mulberry32, randomArray } from './helpers/reference.js';

await init();

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const W = 12;

/**
 * The sensor rows: 12 readings on scales from 0.01 to 1e5 (offsets up to 1e5 too),
 * driven by 3 hidden factors plus 2% noise; anomalies (labels 1) have one reading moved by
 * 8 of its standard deviations, which breaks its correlation with the others.
 */
function sensors(rows: number, seed: number, anomalyRate = 0) {
  // the sensors' structure is the same for every draw; `seed` picks the rows
  let r = mulberry32(77);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const mix = Array.from({ length: W * 3 }, () => gauss());
  r = mulberry32(seed);
  const scale = Array.from({ length: W }, (_, j) => 10 ** (-2 + (7 * j) / (W - 1)));
  const offset = Array.from({ length: W }, (_, j) => (j % 3) * scale[j] * 3);
  const x = new Float32Array(rows * W);
  const labels = new Uint8Array(rows);
  const moved = new Int32Array(rows).fill(-1);
  for (let i = 0; i < rows; i++) {
    const f = [gauss(), gauss(), gauss()];
    for (let j = 0; j < W; j++) {
      const v = mix[j * 3] * f[0] + mix[j * 3 + 1] * f[1] + mix[j * 3 + 2] * f[2] + 0.02 * gauss();
      x[i * W + j] = offset[j] + scale[j] * v;
    }
    if (r() < anomalyRate) {
      labels[i] = 1;
      const j = Math.floor(r() * W);
      moved[i] = j;
      const sd = Math.hypot(mix[j * 3], mix[j * 3 + 1], mix[j * 3 + 2]);
      x[i * W + j] += (r() < 0.5 ? -8 : 8) * scale[j] * sd;
    }
  }
  return { x, labels, moved };
}

const cfg: AutoencoderConfig = {
  inputSize: W, hidden: [16], latentSize: 3, activation: 'tanh', outputActivation: 'linear', loss: 'mse',
  optimizer: { type: 'adam', learningRate: 0.01 }, seed: 5,
};

/** Float64 two-pass mean and population std, and min/max: the reference statistics. */
function reference(x: Float32Array, w: number) {
  const n = x.length / w;
  const mean = new Float64Array(w);
  const std = new Float64Array(w);
  const min = new Float64Array(w).fill(Infinity);
  const max = new Float64Array(w).fill(-Infinity);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) mean[j] += x[i * w + j] / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < w; j++) {
      const v = x[i * w + j];
      std[j] += (v - mean[j]) ** 2 / n;
      min[j] = Math.min(min[j], v);
      max[j] = Math.max(max[j], v);
    }
  }
  return { mean, std: std.map(Math.sqrt), min, max };
}

/** x normalized by hand with f32 operations (what torch does with the file's tensors). */
function normalizeByHand(x: Float32Array, shift: Float32Array, scale: Float32Array): Float32Array {
  const w = shift.length;
  return x.map((v, i) => Math.fround(Math.fround(v - shift[i % w]) / scale[i % w]));
}

describe('normalization inside the model', () => {
  const { x } = sensors(400, 1);

  test("'standard' and 'minmax' statistics match a float64 two-pass reference; batching does not change a bit", () => {
    const ref = reference(x, W);
    for (const kind of ['standard', 'minmax'] as const) {
      const ae = new Autoencoder({ ...cfg, normalize: kind });
      const n = ae.fitNormalizer(x);
      expect(n.type).toBe(kind);
      for (let j = 0; j < W; j++) {
        const shift = kind === 'standard' ? ref.mean[j] : ref.min[j];
        const scale = kind === 'standard' ? ref.std[j] : ref.max[j] - ref.min[j];
        expect(Math.abs(n.shift[j] - shift)).toBeLessThanOrEqual(Math.abs(shift) * 1e-6 + 1e-30);
        expect(Math.abs(n.scale[j] - scale)).toBeLessThanOrEqual(scale * 1e-6);
      }
      // one streaming pass in pieces of 7 rows gives the same bits as all rows at once
      const fitter = ae.normalizerFitter(true)!;
      for (let s = 0; s < 400; s += 7) {
        const piece = x.subarray(s * W, Math.min(400, s + 7) * W);
        fitter.add(piece, piece.length / W);
      }
      const pieces = fitter.finish();
      expect(bits(pieces.shift)).toEqual(bits(n.shift));
      expect(bits(pieces.scale)).toEqual(bits(n.scale));
      ae.dispose();
    }
  });

  test('fit normalizes internally: the same weights, codes and scores as a plain model trained on rows normalized by hand; reconstruct is in original units', async () => {
    const a = new Autoencoder({ ...cfg, normalize: 'standard' });
    expect(a.normalizer).toBeNull();
    await a.fit(x, { epochs: 3, batchSize: 32 });
    const n = a.normalizer!;
    expect(n).not.toBeNull();
    const xn = normalizeByHand(x, n.shift, n.scale);
    const b = new Autoencoder(cfg);
    await b.fit(xn, { epochs: 3, batchSize: 32 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const k of Object.keys(wb)) expect(bits(wa[k]), k).toEqual(bits(wb[k]));
    expect(bits(a.encode(x))).toEqual(bits(b.encode(xn)));
    expect(bits(a.score(x))).toEqual(bits(b.score(xn)));
    expect(a.evaluate(x)).toEqual(b.evaluate(xn));
    const back = b.reconstruct(xn).map((v, i) => Math.fround(Math.fround(v * n.scale[i % W]) + n.shift[i % W]));
    expect(bits(a.reconstruct(x))).toEqual(bits(back));
    // a second fit keeps the statistics of the first
    await a.fit(sensors(50, 9).x, { epochs: 1 });
    expect(a.normalizer).toBe(n);
    a.dispose();
    b.dispose();
  });

  test('a constant feature gets scale 1 (no NaN); fixed statistics are used as given', async () => {
    const c = x.slice();
    for (let i = 0; i < 400; i++) c[i * W + 4] = 123.5;
    const ae = new Autoencoder({ ...cfg, normalize: 'standard' });
    await ae.fit(c, { epochs: 1 });
    expect(ae.normalizer!.scale[4]).toBe(1);
    expect(ae.normalizer!.shift[4]).toBe(123.5);
    expect(ae.score(c).every(Number.isFinite)).toBe(true);
    ae.dispose();

    const mean = Array.from({ length: W }, (_, j) => j * 10);
    const std = Array.from({ length: W }, (_, j) => j + 0.5);
    const fixed = new Autoencoder({ ...cfg, normalize: { mean, std } });
    expect(fixed.config.normalize).toBe('fixed');
    expect(Array.from(fixed.normalizer!.shift)).toEqual(mean);
    expect(Array.from(fixed.normalizer!.scale)).toEqual(std);
    const plain = new Autoencoder(cfg);
    expect(bits(fixed.encode(x))).toEqual(bits(plain.encode(normalizeByHand(x, fixed.normalizer!.shift, fixed.normalizer!.scale))));
    expect(() => fixed.fitNormalizer(x)).toThrow(/fitNormalizer needs a model with normalize 'standard' or 'minmax'/);
    fixed.dispose();
    plain.dispose();
    const mm = new Autoencoder({ ...cfg, normalize: { min: mean, max: mean.map((v) => v + 4) } });
    expect(Array.from(mm.normalizer!.scale)).toEqual(mean.map(() => 4));
    mm.dispose();
  });

  test("default 'none': no normalize key in the config, nothing changes", () => {
    const ae = new Autoencoder(cfg);
    expect('normalize' in ae.config).toBe(false);
    expect(ae.normalizer).toBeNull();
    expect(ae.save().length).toBe(new Autoencoder(cfg).save().length);
    ae.dispose();
  });

  test('bad statistics and options are typed errors naming the argument', () => {
    const live = liveTensors();
    const ones = new Array(W).fill(1);
    expect(() => new Autoencoder({ ...cfg, normalize: { mean: [1, 2], std: ones } })).toThrow(ShapeError);
    expect(() => new Autoencoder({ ...cfg, normalize: { mean: [1, 2], std: ones } })).toThrow(/normalize\.mean has 2 values; expected 12/);
    expect(() => new Autoencoder({ ...cfg, normalize: { mean: ones, std: ones.map((v, j) => (j === 3 ? 0 : v)) } })).toThrow(/normalize\.std\[3\] is 0/);
    expect(() => new Autoencoder({ ...cfg, normalize: { mean: ones, std: ones.map((v, j) => (j === 1 ? -2 : v)) } })).toThrow(InputError);
    expect(() => new Autoencoder({ ...cfg, normalize: { min: ones, max: ones } })).toThrow(/normalize\.max\[0\]/);
    expect(() => new Autoencoder({ ...cfg, normalize: 'zscore' as never })).toThrow(/normalize must be 'none', 'standard', 'minmax'/);
    expect(() => new Autoencoder({ ...cfg, normalize: { mean: ones, std: ones, extra: 1 } as never })).toThrow(InputError);
    expect(liveTensors()).toBe(live);
    const ae = new Autoencoder({ ...cfg, normalize: 'minmax' });
    expect(() => ae.encode(x)).toThrow(/normalizer is not fitted yet/);
    ae.dispose();
  });

  test('every model class normalizes: VAE and ConvAutoencoder', async () => {
    const vae = new VAE({ inputSize: W, hidden: [8], latentSize: 2, outputActivation: 'linear', loss: 'mse', seed: 1, normalize: 'standard' });
    await vae.fit(x, { epochs: 1 });
    expect(vae.normalizer!.type).toBe('standard');
    const plainVae = new VAE({ inputSize: W, hidden: [8], latentSize: 2, outputActivation: 'linear', loss: 'mse', seed: 1 });
    await plainVae.fit(normalizeByHand(x, vae.normalizer!.shift, vae.normalizer!.scale), { epochs: 1 });
    expect(bits(vae.encode(x))).toEqual(bits(plainVae.encode(normalizeByHand(x, vae.normalizer!.shift, vae.normalizer!.scale))));
    vae.dispose();
    plainVae.dispose();
    const img = randomArray(20 * 64, 3, 0, 255);
    const conv = new ConvAutoencoder({ inputShape: [1, 8, 8], filters: [2], latentSize: 3, normalize: 'minmax', seed: 2 });
    await conv.fit(img, { epochs: 1 });
    expect(conv.normalizer!.scale.length).toBe(64);
    const r = conv.reconstruct(img);
    // a sigmoid output in [0, 1] maps back into [min, max] of each pixel
    for (let i = 0; i < r.length; i++) {
      const j = i % 64;
      expect(r[i]).toBeGreaterThanOrEqual(conv.normalizer!.shift[j] - 1e-3);
      expect(r[i]).toBeLessThanOrEqual(conv.normalizer!.shift[j] + conv.normalizer!.scale[j] + 1e-3);
    }
    conv.dispose();
  });
});

/** numpy.quantile(s, q), linear: written out independently of the library's sort. */
function npQuantile(s: Float32Array, q: number): number {
  const a = Array.from(s).sort((u, v) => u - v);
  const h = (a.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < a.length ? a[lo] + (h - lo) * (a[lo + 1] - a[lo]) : a[lo];
}

describe('detectors', () => {
  const train = sensors(1000, 2, 0);
  const test_ = sensors(1000, 3, 0.05);

  test('score: mse is reconstructionError; mae and euclidean match a float64 recomputation from reconstruct, in normalized units', async () => {
    const ae = new Autoencoder({ ...cfg, normalize: 'standard' });
    await ae.fit(train.x, { epochs: 2 });
    const n = ae.normalizer!;
    expect(bits(ae.score(test_.x))).toEqual(bits(ae.reconstructionError(test_.x)));
    expect(bits(ae.score(test_.x, { metric: 'mse' }))).toEqual(bits(ae.score(test_.x)));
    const xn = normalizeByHand(test_.x, n.shift, n.scale);
    const yn = normalizeByHand(ae.reconstruct(test_.x), n.shift, n.scale);
    const mae = ae.score(test_.x, { metric: 'mae' });
    const euc = ae.score(test_.x, { metric: 'euclidean' });
    const mse = ae.score(test_.x);
    for (let i = 0; i < 1000; i++) {
      let a = 0;
      let s = 0;
      for (let j = 0; j < W; j++) {
        const d = yn[i * W + j] - xn[i * W + j];
        a += Math.abs(d);
        s += d * d;
      }
      // reconstruct → normalize again rounds twice: a few f32 ulps of the values
      expect(Math.abs(mae[i] - a / W)).toBeLessThanOrEqual(1e-5 * (a / W) + 1e-6);
      expect(Math.abs(euc[i] - Math.sqrt(s))).toBeLessThanOrEqual(1e-5 * Math.sqrt(s) + 1e-6);
      expect(Math.abs(mse[i] - s / W)).toBeLessThanOrEqual(1e-4 * (s / W) + 1e-6);
    }
    expect(() => ae.score(test_.x, { metric: 'negElbo' })).toThrow(/metric must be one of mse, mae, euclidean for this model; got "negElbo"/);
    expect(() => ae.score(test_.x, { metrc: 'mae' } as never)).toThrow(/did you mean 'metric'/);
    ae.dispose();
  });

  test('calibrate: contamination, quantile, max and meanStd give numpy/PyOD/Keras thresholds; predict and detect flag score > threshold', async () => {
    const ae = new Autoencoder({ ...cfg, normalize: 'standard' });
    await ae.fit(train.x, { epochs: 2 });
    const s = ae.score(train.x);
    expect(ae.calibrate(train.x, { contamination: 0.05 })).toBe(npQuantile(s, 0.95));
    expect(ae.threshold).toBe(npQuantile(s, 0.95));
    expect(ae.thresholdMetric).toBe('mse');
    const flagged = ae.predict(train.x).reduce((a, b) => a + b, 0);
    expect(flagged).toBe(Array.from(s).filter((v) => v > npQuantile(s, 0.95)).length);
    expect(Math.abs(flagged - 50)).toBeLessThanOrEqual(1);
    expect(ae.calibrate(train.x, { quantile: 0.5 })).toBe(npQuantile(s, 0.5));
    expect(ae.calibrate(train.x, { method: 'max' })).toBe(Math.max(...s));
    expect(ae.predict(train.x).every((f) => f === 0)).toBe(true);
    let mean = 0;
    for (const v of s) mean += v / s.length;
    let v2 = 0;
    for (const v of s) v2 += (v - mean) ** 2 / s.length;
    expect(ae.calibrate(train.x, { method: 'meanStd', k: 2 })).toBeCloseTo(mean + 2 * Math.sqrt(v2), 12);
    expect(ae.calibrate(train.x, { method: 'meanStd' })).toBeCloseTo(mean + 3 * Math.sqrt(v2), 12);
    const t = ae.calibrate(train.x, { contamination: 0.01, metric: 'mae' });
    expect(ae.thresholdMetric).toBe('mae');
    const d = ae.detect(test_.x);
    expect(d.threshold).toBe(t);
    expect(bits(d.scores)).toEqual(bits(ae.score(test_.x, { metric: 'mae' })));
    expect(Array.from(d.flags)).toEqual(Array.from(d.scores, (v) => (v > t ? 1 : 0)));
    expect(Array.from(ae.predict(test_.x))).toEqual(Array.from(d.flags));
    // the detector finds the planted anomalies; without normalization the 1e5-scale readings
    // swamp the rest and the same model is no better than chance (the 0.41)
    expect(rocAuc(d.scores, test_.labels)).toBeGreaterThan(0.99);
    const plain = new Autoencoder(cfg);
    await plain.fit(train.x, { epochs: 2 });
    expect(rocAuc(plain.score(test_.x), test_.labels)).toBeLessThan(0.7);
    plain.dispose();
    ae.dispose();
  });

  test('bad rules and predict before calibrate: typed errors, the threshold stays as it was', async () => {
    const ae = new Autoencoder(cfg);
    expect(ae.threshold).toBeUndefined();
    expect(() => ae.predict(train.x)).toThrow(/no threshold: call calibrate/);
    expect(() => ae.detect(train.x)).toThrow(InputError);
    ae.calibrate(train.x, { quantile: 0.9 });
    const t = ae.threshold;
    for (const [rule, msg] of [
      [{ contamination: 0 }, /contamination must be in \(0, 0\.5\]/],
      [{ contamination: 0.6 }, /rule\.contamination must be a finite number in \[0, 0\.5\]/],
      [{ contamination: -0.1 }, /rule\.contamination/],
      [{ quantile: 1.5 }, /rule\.quantile/],
      [{ method: 'median' }, /rule\.method must be 'max' or 'meanStd'/],
      [{ method: 'meanStd', k: -1 }, /rule\.k/],
      [{ contamination: 0.1, quantile: 0.9 }, /exactly one of contamination, quantile, method/],
      [{}, /exactly one/],
      [{ contamination: 0.1, metric: 'negElbo' }, /rule\.metric must be one of mse, mae, euclidean/],
      [{ contamnation: 0.1 }, /did you mean 'contamination'/],
      [null, /calibrate needs a rule/],
    ] as const) {
      expect(() => ae.calibrate(train.x, rule as never), JSON.stringify(rule)).toThrow(InputError);
      expect(() => ae.calibrate(train.x, rule as never)).toThrow(msg);
      expect(ae.threshold).toBe(t);
    }
    expect(() => (ae.threshold = Number.NaN)).toThrow(/threshold must be a finite number/);
    ae.threshold = 0.25;
    expect(ae.threshold).toBe(0.25);
    ae.dispose();
  });

  test("VAE: 'negElbo' per row averages to evaluate(x).negElbo, and is the same on every call", async () => {
    const { x } = sensors(300, 4);
    const vae = new VAE({ inputSize: W, hidden: [16], latentSize: 3, outputActivation: 'linear', loss: 'mse', seed: 2, normalize: 'standard' });
    await vae.fit(x, { epochs: 3 });
    const s = vae.score(x, { metric: 'negElbo' });
    let mean = 0;
    for (const v of s) mean += v / s.length;
    const e = vae.evaluate(x);
    expect(Math.abs(mean - e.negElbo)).toBeLessThanOrEqual(1e-5 * Math.abs(e.negElbo));
    expect(bits(vae.score(x, { metric: 'negElbo' }))).toEqual(bits(s));
    vae.calibrate(x, { contamination: 0.02, metric: 'negElbo' });
    expect(vae.thresholdMetric).toBe('negElbo');
    expect(bits(vae.detect(x).scores)).toEqual(bits(s));
    vae.dispose();
  });

  test('featureErrors: |x − reconstruct(x)| in original units; the moved reading has the largest error', async () => {
    const ae = new Autoencoder({ ...cfg, normalize: 'standard' });
    await ae.fit(train.x, { epochs: 5 });
    const fe = ae.featureErrors(test_.x);
    const r = ae.reconstruct(test_.x);
    expect(bits(fe)).toEqual(bits(test_.x.map((v, i) => Math.abs(v - r[i]))));
    // relative to each feature's spread, the moved reading has the largest error in most anomalies
    const n = ae.normalizer!;
    let hits = 0;
    let count = 0;
    for (let i = 0; i < 1000; i++) {
      if (!test_.labels[i]) continue;
      count++;
      const rel = Array.from({ length: W }, (_, j) => fe[i * W + j] / n.scale[j]);
      if (rel.indexOf(Math.max(...rel)) === test_.moved[i]) hits++;
    }
    expect(hits / count).toBeGreaterThan(0.9);
    ae.dispose();
  });
});

describe('model files carry the normalizer and the threshold', () => {
  const { x } = sensors(300, 6, 0.02);

  test('save → loadModel: the same statistics, threshold, scores and flags, bit for bit; plain F32 tensors with documented names', async () => {
    for (const make of [
      () => new Autoencoder({ ...cfg, normalize: 'standard' }),
      () => new VAE({ inputSize: W, hidden: [8], latentSize: 2, outputActivation: 'linear', loss: 'mse', seed: 3, normalize: 'minmax' }),
      () => new Autoencoder({ ...cfg, normalize: { mean: new Array(W).fill(5), std: new Array(W).fill(1000) } }),
    ]) {
      const m = make();
      await m.fit(x, { epochs: 1 });
      m.calibrate(x, { contamination: 0.02, metric: m.kind === 'vae' ? 'negElbo' : 'euclidean' });
      const bytes = m.save();
      const file = readSafetensors(bytes);
      expect(file.tensors.get('normalizer.shift')).toMatchObject({ dtype: 'F32', shape: [W] });
      expect(file.tensors.get('normalizer.scale')).toMatchObject({ dtype: 'F32', shape: [W] });
      const back = loadModel(bytes);
      expect(back.config).toEqual(m.config);
      expect(back.normalizer!.type).toBe(m.normalizer!.type);
      expect(bits(back.normalizer!.shift)).toEqual(bits(m.normalizer!.shift));
      expect(bits(back.normalizer!.scale)).toEqual(bits(m.normalizer!.scale));
      expect(back.threshold).toBe(m.threshold);
      expect(back.thresholdMetric).toBe(m.thresholdMetric);
      const a = m.detect(x);
      const b = back.detect(x);
      expect(bits(b.scores)).toEqual(bits(a.scores));
      expect(Array.from(b.flags)).toEqual(Array.from(a.flags));
      expect(bits(back.reconstruct(x))).toEqual(bits(m.reconstruct(x)));
      m.dispose();
      back.dispose();
    }
  });

  test('broken normalizer tensors or threshold metadata are FormatErrors', async () => {
    const m = new Autoencoder({ ...cfg, normalize: 'standard' });
    await m.fit(x, { epochs: 1 });
    m.calibrate(x, { contamination: 0.02 });
    const file = readSafetensors(m.save());
    const rewrite = (edit: (t: Map<string, { shape: number[]; data: Float32Array }>, meta: Record<string, string>) => void) => {
      const tensors = new Map([...file.tensors].map(([k, e]) => [k, { shape: [...e.shape], data: toFloat32(e, k).slice() }]));
      const meta = { ...file.metadata! };
      edit(tensors, meta);
      return writeSafetensors([...tensors].map(([name, t]) => ({ name, ...t })), meta);
    };
    const live = liveTensors();
    expect(() => loadModel(rewrite((t) => t.delete('normalizer.scale')))).toThrow(/'normalizer\.shift' without 'normalizer\.scale'/);
    expect(() => loadModel(rewrite((t) => t.get('normalizer.scale')!.data.fill(0)))).toThrow(/expected a positive scale/);
    expect(() => loadModel(rewrite((t) => t.set('normalizer.shift', { shape: [3], data: new Float32Array(3) })))).toThrow(/'normalizer\.shift' has shape \[3\]; the model needs \[12\]/);
    expect(() => loadModel(rewrite((_, meta) => (meta.threshold = 'abc')))).toThrow(/threshold must be a finite number/);
    expect(() => loadModel(rewrite((_, meta) => (meta.thresholdMetric = 'negElbo')))).toThrow(/thresholdMetric must be one of mse, mae, euclidean/);
    const fixed = loadModel(rewrite((_, meta) => (meta.config = meta.config.replace('"normalize":"standard"', '"normalize":"fixed"'))));
    expect(fixed.normalizer!.type).toBe('fixed');
    fixed.dispose();
    expect(() => loadModel(rewrite((t, meta) => {
      t.delete('normalizer.shift');
      t.delete('normalizer.scale');
      meta.config = meta.config.replace('"normalize":"standard"', '"normalize":"fixed"');
    }))).toThrow(FormatError);
    expect(liveTensors()).toBe(live);
    m.dispose();
  });
});
