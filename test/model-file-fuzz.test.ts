// Fuzzing the model layer (defect 1): files saved by every model class, their __metadata__
// mutated (kind, formatVersion, config with wrong types, missing and extra keys, prototype keys,
// huge and negative sizes, deep nesting), must each load or throw FormatError, nothing else; a
// claimed size must never grow the WebAssembly memory, and nothing may leak. Node and Chromium.
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import {
  Autoencoder, ConvAutoencoder, DenoisingAutoencoder, FormatError, SparseAutoencoder, VAE, init, liveTensors, loadModel,
  readSafetensors, writeSafetensors,
} from '../src/index.js';
import { arena } from '../src/runtime/context.js';

await init();

const RUNS = 5000;
const stats = { cases: 0, loaded: 0, rejected: 0 };
afterAll(() => {
  console.log(`model-file fuzz: ${stats.cases} files (${stats.loaded} loaded, ${stats.rejected} FormatError)`);
});

// ---- seeds: one small file per class, some with the optimizer state -------------------------
const makers = [
  () => new Autoencoder({ inputSize: 6, hidden: [4], latentSize: 2, seed: 1 }),
  () => new DenoisingAutoencoder({ inputSize: 6, latentSize: 2, noise: { type: 'gaussian', std: 0.1 }, activation: { type: 'leakyRelu', alpha: 0.1 } }),
  () => new SparseAutoencoder({ inputSize: 6, latentSize: 3, latentActivation: 'sigmoid', sparsity: { kl: { target: 0.1, weight: 1 } }, optimizer: 'sgd' }),
  () => new VAE({ inputSize: 6, hidden: [4], latentSize: 2, beta: 0.5, optimizer: { type: 'adamw', amsgrad: true } }),
  () => new ConvAutoencoder({ inputShape: [1, 4, 4], filters: [2], latentSize: 2, noise: { type: 'mask', p: 0.1 } }),
  () => new Autoencoder({
    inputShape: [1, 4, 4],
    layers: {
      encoder: [{ type: 'conv2d', filters: 2, kernelSize: 3, padding: 1 }, { type: 'maxPool2d', kernelSize: 2 }, { type: 'flatten' }, { type: 'dropout', rate: 0.1 }, { type: 'dense', units: 2, activation: 'tanh' }],
      decoder: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'reshape', shape: [2, 2, 2] }, { type: 'upsample', scale: 2 }, { type: 'convTranspose2d', filters: 1, kernelSize: 3, padding: 1, activation: 'sigmoid' }],
    },
  }),
];
/** A detector: min-max normalization fitted by fit, and a calibrated threshold in the metadata. */
async function detectorFile(): Promise<Uint8Array[]> {
  const m = new VAE({ inputSize: 6, hidden: [4], latentSize: 2, normalize: 'minmax', seed: 2 });
  const x = Float32Array.from({ length: 60 }, (_, i) => (i * 7) % 5);
  await m.fit(x, { epochs: 1, batchSize: 10 });
  m.calibrate(x, { contamination: 0.1 });
  const files = [m.save(), m.save({ optimizer: true })];
  m.dispose();
  return files;
}
interface Seed { tensors: { name: string; shape: number[]; data: Float32Array }[]; meta: Record<string, string> }
const files = makers.flatMap((make) => {
  const m = make();
  const saved = [m.save(), m.save({ optimizer: true })];
  m.dispose();
  return saved;
});
const seeds: Seed[] = [...files, ...(await detectorFile())].map((bytes) => {
    const f = readSafetensors(bytes);
    return {
      tensors: [...f.tensors].map(([name, e]) => ({ name, shape: [...e.shape], data: new Float32Array(e.bytes.slice().buffer) })),
      meta: { ...f.metadata! },
    };
});

// ---- mutations -------------------------------------------------------------------------------
const PROTO_KEYS = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__'];
const KINDS = ['autoencoder', 'denoisingAutoencoder', 'sparseAutoencoder', 'vae', 'convAutoencoder'];
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
/** Values that break configs: wrong types, huge, negative and fractional sizes, prototype keys. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, -1e9, 0.5, 1e9, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e308, -0, null, true, false, '', 'relu', 'sigmoid', [], {}, [0], [1e9, 1e9], [-1, 2]),
  fc.constantFrom(...PROTO_KEYS, ...KINDS),
  fc.integer({ min: -5, max: 70000 }),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.constant(protoObject()),
  fc.constant(JSON.parse(deep(40)) as unknown),
  fc.array(fc.integer({ min: -3, max: 1e6 }), { maxLength: 4 }),
);
function protoObject(): object {
  const o = {};
  for (const k of PROTO_KEYS) Object.defineProperty(o, k, { value: { type: 'dense' }, enumerable: true, configurable: true, writable: true });
  return o;
}

/** Every path to a value in a JSON tree. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...prefix, k], out);
  return out;
}
/** Sets an own property (even "__proto__") to a fresh copy of v (the pool's objects are shared). */
function setOwn(o: Record<string | number, unknown>, k: string | number, v: unknown): void {
  Object.defineProperty(o, k, { value: JSON.parse(JSON.stringify(v) ?? 'null'), enumerable: true, configurable: true, writable: true });
}

type Edit =
  | { op: 'kind'; value: string }
  | { op: 'version'; value: string }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'text'; value: string }
  | { op: 'other'; from: number }
  | { op: 'meta'; key: string; value: string | null };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('kind' as const), value: fc.oneof(fc.constantFrom(...PROTO_KEYS, ...KINDS, '', 'VAE', ' vae', 'gan'), fc.string({ maxLength: 6 })) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('version' as const), value: fc.oneof(fc.constantFrom('1', '0', '2', '-1', '1.0', '0x1', ' 1', '1e0', 'NaN', 'Infinity', '', '__proto__'), fc.string({ maxLength: 4 })) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: nasty }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...PROTO_KEYS, 'hidden', 'units', 'type', 'noise', 'sparsity'), fc.string({ maxLength: 6 })), value: nasty }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('text' as const), value: fc.constantFrom('', '{', 'null', '[]', '1', '"x"', `{"a":${deep(10)}}`, deep(100_000), '{"__proto__":{"inputSize":4}}') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('other' as const), from: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('meta' as const),
      key: fc.constantFrom('threshold', 'thresholdMetric', 'optimizerStep', 'learningRate', 'rngState', 'libraryVersion', 'format', ...PROTO_KEYS),
      value: fc.oneof(fc.constant(null), fc.constantFrom('', '1', '-1', '1e400', 'NaN', '0x10', 'mse', 'negElbo', '0'.repeat(64), 'f'.repeat(64)), fc.string({ maxLength: 8 })),
    }),
    weight: 2,
  },
);

function apply(seed: Seed, edits: Edit[]): Uint8Array {
  const meta = { ...seed.meta };
  let config: unknown = JSON.parse(meta.config);
  let text: string | null = null;
  for (const e of edits) {
    if (e.op === 'kind') meta.kind = e.value;
    else if (e.op === 'version') meta.formatVersion = e.value;
    else if (e.op === 'text') text = e.value;
    else if (e.op === 'other') config = JSON.parse(seeds[e.from % seeds.length].meta.config);
    else if (e.op === 'meta') {
      if (e.value === null) delete meta[e.key];
      else Object.defineProperty(meta, e.key, { value: e.value, enumerable: true, configurable: true, writable: true });
    }
    else {
      const all = paths(config);
      const path = all[e.at % all.length];
      if (path.length === 0) {
        if (e.op === 'set') config = JSON.parse(JSON.stringify(e.value) ?? 'null');
        continue;
      }
      let parent = config as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path[path.length - 1];
      if (e.op === 'set') setOwn(parent, last, e.value);
      else if (e.op === 'delete') delete parent[last];
      else {
        const target = parent[last];
        if (target && typeof target === 'object' && !Array.isArray(target)) setOwn(target as Record<string, unknown>, e.key, e.value);
        else setOwn(parent, e.key, e.value);
      }
    }
  }
  meta.config = text ?? JSON.stringify(config) ?? 'undefined';
  return writeSafetensors(seed.tensors, meta);
}

test(`${RUNS} mutated model files: each loads or throws FormatError; no leak, no growth from claimed sizes`, () => {
  const live = liveTensors();
  const memory = arena().ex.memory.buffer.byteLength;
  fc.assert(
    fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 4 }), (s, edits) => {
      const bytes = apply(seeds[s], edits);
      stats.cases++;
      let model: ReturnType<typeof loadModel> | null = null;
      try {
        model = loadModel(bytes);
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`not a FormatError: ${String(e)}`, { cause: e });
        expect(e.message.length).toBeGreaterThan(0);
        stats.rejected++;
      }
      if (model) {
        stats.loaded++;
        // what loads is a working model of a known kind
        expect(KINDS).toContain(model.kind);
        model.dispose();
      }
      expect(liveTensors()).toBe(live);
    }),
    { numRuns: RUNS, seed: 9, endOnFailure: true },
  );
  // files of a few kB each: memory may grow by a few of the per-file caps (64 × file + 1 MiB), never to a claimed size
  expect(arena().ex.memory.buffer.byteLength - memory).toBeLessThanOrEqual(16 << 20);
  expect(stats.rejected).toBeGreaterThan(RUNS / 2);
  expect(stats.loaded).toBeGreaterThan(50);
}, 120_000);
