import { checkKeys, describe } from '../data.js';
import { FormatError, InputError, LatentError, RuntimeError } from '../errors.js';
import { arena } from '../runtime/context.js';
import type { Param } from '../nn/layers.js';
import type { Optimizer } from '../nn/optimizers.js';
import type { Arena } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import { VERSION } from '../version.js';
import type { Normalizer, NormalizeKind } from '../models/normalizer.js';
import type { ScoreMetric } from '../models/detector.js';
import { checkNesting, readSafetensors, toFloat32, writeSafetensors, type SafetensorsFile, type TensorToWrite } from './safetensors.js';

/**
 * A model file is one safetensors file: the parameters under PyTorch's names (F32), and in
 * `__metadata__` the format, its version, the library version, the model kind and its resolved
 * config (JSON). With `{ optimizer: true }` it also holds the optimizer's state tensors
 * (`optimizer.<param>.<slot>`, slot names as torch.optim's state_dict), its step count and the
 * model's RNG state, so training resumes exactly.
 */
export const FORMAT = 'latent-wasm';
export const FORMAT_VERSION = 1;
/** Every format version this library reads (older files must keep loading). */
const READABLE_VERSIONS = [1];

/** What saving and loading need of a model; every model of the family provides it. */
export interface SavableModel {
  readonly kind: string;
  readonly config: object;
  readonly arena: Arena;
  readonly optimizer: Optimizer;
  readonly rng: Rng;
  readonly inputSize: number;
  readonly normalizer: Normalizer | null;
  readonly threshold: number | undefined;
  readonly thresholdMetric: ScoreMetric | undefined;
  readonly scoreMetrics: readonly ScoreMetric[];
  params(): Param[];
  setNormalizer(n: Normalizer): void;
  setThreshold(t: number | undefined, metric: ScoreMetric): void;
  dispose(): void;
}

/** A model class as loading sees it: the kind its files record, and its constructor. */
export interface ModelClass<M extends SavableModel> {
  readonly kind: string;
  new (config: never): M;
}

/** How deep a model config nests (config { layers { encoder [ { outputPadding [ ] } ] } }). */
const MAX_CONFIG_DEPTH = 5;
/**
 * Building a model allocates its parameters, their gradients, the optimizer's state (up to 3
 * tensors per parameter) and a dense layer's packed panels (its weight with rows padded to 32:
 * up to 32× for a 1-unit layer), so about 38× the parameters' bytes at most. A file must hold
 * every parameter, so a config that needs more than this many times the file's size (plus a
 * little for the generator and small tensors) claims sizes its file does not have: it is
 * refused before memory grows.
 */
const BUILD_BYTES_PER_FILE_BYTE = 64;
const BUILD_BYTES_SLACK = 1 << 20;

/** The normalizer's tensors in a model file: x' = (x − shift) / scale, F32 [inputSize] each. */
const SHIFT = 'normalizer.shift';
const SCALE = 'normalizer.scale';

export interface SaveOptions {
  /** Include the optimizer state (moments, step) and the RNG state. Default false. */
  optimizer?: boolean;
}

const SLOTS: Record<string, readonly string[]> = {
  sgd: ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'],
  rmsprop: ['square_avg', 'grad_avg', 'momentum_buffer'],
  adagrad: ['sum'],
  adadelta: ['square_avg', 'acc_delta'],
};

export function saveModel(model: SavableModel, options: SaveOptions = {}): Uint8Array<ArrayBuffer> {
  if (typeof options !== 'object' || options === null) throw new InputError(`save options must be an object like { optimizer: true }; got ${describe(options)}`);
  checkKeys(options, ['optimizer'], 'save options');
  if (options.optimizer !== undefined && typeof options.optimizer !== 'boolean') {
    throw new InputError(`save options.optimizer must be a boolean; got ${describe(options.optimizer)}`);
  }
  const tensors: TensorToWrite[] = model.params().map((p) => ({ name: p.name, shape: [...p.shape], data: model.arena.read(p.value) }));
  const metadata = modelMetadata(model.kind, model.config);
  addDetectorState(model, tensors, metadata);
  if (options.optimizer) {
    const opt = model.optimizer;
    const slots = SLOTS[opt.config.type];
    model.params().forEach((p, i) => {
      opt.stateTensors()[i].forEach((t, s) => {
        tensors.push({ name: `optimizer.${p.name}.${slots[s]}`, shape: [...p.shape], data: model.arena.read(t) });
      });
    });
    metadata.optimizerStep = String(opt.step);
    metadata.learningRate = String(opt.learningRate);
    metadata.rngState = Array.from(model.rng.getState(), (w) => w.toString(16).padStart(8, '0')).join('');
  }
  return writeSafetensors(tensors, metadata);
}

/** Builds the model of a kind that is not a class of the family (the int8 model) from its file. */
export type KindLoader<Q> = (file: SafetensorsFile, config: unknown) => Q;

/**
 * Rebuilds the model a file written by saveModel holds, as the one of `classes` (or `loaders`) whose kind the
 * file records (a FormatError naming the file's kind and the expected ones otherwise). The model
 * is built from the file's config under an allocation cap proportional to the file's size, then
 * given the file's tensors; a config the class refuses is a FormatError saying why, and a model
 * that fails to load is disposed before the error propagates.
 */
export function loadModelFile<M extends SavableModel, Q = never>(
  bytes: Uint8Array | ArrayBuffer,
  classes: readonly ModelClass<M>[],
  loaders: Readonly<Record<string, KindLoader<Q>>> = {},
): M | Q {
  const u8 = asBytes(bytes, 'bytes');
  const { file, kind, config } = readModelHeader(u8);
  const load = Object.hasOwn(loaders, kind) ? loaders[kind] : undefined;
  const Model = classes.find((c) => c.kind === kind);
  if (!Model && !load) {
    const kinds = [...classes.map((c) => c.kind), ...Object.keys(loaders)];
    throw new FormatError(`__metadata__.kind is ${quote(kind)}; ${kinds.length === 1 ? 'expected' : 'this library loads'} ${kinds.join(', ')}`);
  }
  const cap = BUILD_BYTES_PER_FILE_BYTE * u8.length + BUILD_BYTES_SLACK;
  const refuse = (requested: number) =>
    new FormatError(`the file's config describes a ${kind} larger than its ${u8.length} bytes can hold ` +
      `(building it needs more than ${cap} bytes, at a ${requested}-byte tensor); the sizes in __metadata__.config are wrong`);
  // a kind with a loader of its own (the int8 model) builds and fills itself, under the same cap
  if (load) return arena().construct(cap, refuse, () => load(file, config));
  let model: M;
  try {
    model = arena().construct(cap, refuse, () => new Model!(config as never));
  } catch (e) {
    if (e instanceof LatentError && !(e instanceof FormatError) && !(e instanceof RuntimeError)) {
      throw new FormatError(`the file's config does not describe a valid ${kind}: ${e.message}`);
    }
    throw e;
  }
  try {
    loadTensorsInto(model, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Names of Object.prototype's members ("toString", "constructor", "__proto__", ...). */
const PROTOTYPE_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * No model option is named like a member of Object.prototype, and an own "toString" or
 * "valueOf" that is not a function makes the object impossible to print or compare: such a key
 * anywhere in a file's config is a FormatError before the config reaches a model.
 */
function checkNoPrototypeKeys(v: unknown, what: string): void {
  if (typeof v !== 'object' || v === null) return;
  for (const [k, child] of Object.entries(v)) {
    const at = Array.isArray(v) ? `${what}[${k}]` : `${what}.${k}`;
    if (!Array.isArray(v) && PROTOTYPE_KEYS.has(k)) throw new FormatError(`${at}: no model option is named ${JSON.stringify(k)}`);
    checkNoPrototypeKeys(child, at);
  }
}

/** A metadata value for an error message: quoted, and cut short when long. */
function quote(s: string | undefined): string {
  if (s === undefined) return 'missing';
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** Bytes given as a Uint8Array or an ArrayBuffer. */
function asBytes(bytes: unknown, what: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new InputError(`${what} must be a Uint8Array or an ArrayBuffer; got ${describe(bytes)}`);
}

/** The `__metadata__` of every model file: format, versions, the model's kind and config (JSON). */
export function modelMetadata(kind: string, config: object): Record<string, string> {
  return { format: FORMAT, formatVersion: String(FORMAT_VERSION), libraryVersion: VERSION, kind, config: JSON.stringify(config) };
}

/** What a model file keeps of a detector besides the weights (every model, the int8 one too). */
export type DetectorState = Pick<SavableModel, 'config' | 'inputSize' | 'normalizer' | 'threshold' | 'thresholdMetric' | 'scoreMetrics'>;

/** Adds the normalizer's tensors and the threshold's metadata of `model`, when it has them. */
export function addDetectorState(model: DetectorState, tensors: TensorToWrite[], metadata: Record<string, string>): void {
  const norm = model.normalizer;
  if (norm) tensors.push({ name: SHIFT, shape: [norm.shift.length], data: norm.shift }, { name: SCALE, shape: [norm.scale.length], data: norm.scale });
  if (model.threshold !== undefined) {
    // String(number) is the shortest text that parses back to the same double
    metadata.threshold = String(model.threshold);
    metadata.thresholdMetric = model.thresholdMetric!;
  }
}

/** Parses a file written by saveModel: its kind and config, checked. */
export function readModelHeader(bytes: Uint8Array): { file: SafetensorsFile; kind: string; config: unknown } {
  const file = readSafetensors(bytes);
  const meta = file.metadata;
  if (!meta || meta.format !== FORMAT) {
    throw new FormatError(
      'this safetensors file has no latent-wasm metadata (format, config); if PyTorch saved it, ' +
        'load it with Autoencoder.fromSafetensors(bytes, config) and the architecture',
    );
  }
  // the exact decimal text: Number() would also take '0x1', ' 1' or '1.0'
  if (!READABLE_VERSIONS.some((v) => String(v) === meta.formatVersion)) {
    throw new FormatError(
      `model file format version ${quote(meta.formatVersion)} (written by latent-wasm ${quote(meta.libraryVersion)}) ` +
        `is not one this library (${VERSION}) reads: it reads versions ${READABLE_VERSIONS.join(', ')}`,
    );
  }
  if (meta.config === undefined) throw new FormatError('__metadata__.config is missing; expected the model config as JSON');
  checkNesting(meta.config, MAX_CONFIG_DEPTH, '__metadata__.config', ' (config, layers, encoder or decoder, layer spec, size pair)');
  let config: unknown;
  try {
    config = JSON.parse(meta.config);
  } catch {
    throw new FormatError('__metadata__.config is not valid JSON');
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new FormatError('__metadata__.config is not a JSON object');
  checkNoPrototypeKeys(config, '__metadata__.config');
  return { file, kind: meta.kind, config };
}

/**
 * Copies the file's tensors into a freshly built model: every parameter must be present with
 * its exact shape and finite values, and nothing else may be there (a mismatch means another
 * architecture). All checks run before the first value is written.
 */
export function loadTensorsInto(model: SavableModel, file: SafetensorsFile): void {
  const params = model.params();
  const staged: [Param['value'], Float32Array][] = [];
  const expected = new Set<string>();
  const take = (name: string, shape: readonly number[], target: Param['value']) => {
    expected.add(name);
    const entry = file.tensors.get(name);
    if (!entry) {
      throw new FormatError(`tensor '${name}' [${shape.join(', ')}] is missing; the model needs ${params.map((p) => p.name).join(', ')}`);
    }
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(`tensor '${name}' has shape [${entry.shape.join(', ')}]; the model needs [${shape.join(', ')}]`);
    }
    const values = toFloat32(entry, name);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new FormatError(`tensor '${name}' holds ${values[i]} at index ${i}; weights must be finite`);
    }
    staged.push([target, values]);
  };
  for (const p of params) take(p.name, p.shape, p.value);

  const meta = file.metadata ?? {};
  const hasOptimizer = [...file.tensors.keys()].some((n) => n.startsWith('optimizer.'));
  let step = 0;
  let rngState: Uint32Array | null = null;
  if (hasOptimizer) {
    const opt = model.optimizer;
    const slots = SLOTS[opt.config.type];
    params.forEach((p, i) => opt.stateTensors()[i].forEach((t, s) => take(`optimizer.${p.name}.${slots[s]}`, p.shape, t)));
    step = Number(meta.optimizerStep);
    if (!Number.isSafeInteger(step) || step < 0) throw new FormatError(`__metadata__.optimizerStep must be a non-negative integer; got ${meta.optimizerStep}`);
    if (!/^[0-9a-f]{64}$/.test(meta.rngState ?? '')) throw new FormatError('__metadata__.rngState must be 64 hex digits');
    rngState = Uint32Array.from({ length: 8 }, (_, i) => parseInt(meta.rngState.slice(i * 8, i * 8 + 8), 16));
  }
  const normalizer = readNormalizer(model, file, expected);
  const threshold = readThreshold(model, meta);
  // files of 0.1.0 hold Adam's max_exp_avg_sq without AMSGrad too (all zeros, never read)
  const unused = (n: string) => hasOptimizer && stateCount(model) < 3 && n.startsWith('optimizer.') && n.endsWith('.max_exp_avg_sq');
  const extra = [...file.tensors.keys()].filter((n) => !expected.has(n) && !unused(n));
  if (extra.length) {
    throw new FormatError(`the file holds tensors this model does not have: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  }
  for (const [t, values] of staged) model.arena.write(t, values);
  if (normalizer) model.setNormalizer(normalizer);
  if (threshold) model.setThreshold(threshold.value, threshold.metric);
  if (rngState) {
    model.optimizer.step = step;
    const lr = Number(meta.learningRate);
    if (Number.isFinite(lr) && lr >= 0) model.optimizer.learningRate = lr;
    model.rng.setState(rngState);
  }
}

function stateCount(model: SavableModel): number {
  return model.optimizer.stateTensors()[0]?.length ?? 0;
}

/** The file's normalizer tensors, checked (both or neither; the model's width; finite; scale > 0). */
export function readNormalizer(model: DetectorState, file: SafetensorsFile, expected: Set<string>): Normalizer | null {
  const kind = (model.config as { normalize?: NormalizeKind }).normalize;
  const shift = file.tensors.get(SHIFT);
  const scale = file.tensors.get(SCALE);
  if (!shift && !scale) {
    if (kind === 'fixed') throw new FormatError(`the config says normalize 'fixed' but the file has no '${SHIFT}' and '${SCALE}' tensors`);
    return null;
  }
  if (!shift || !scale) throw new FormatError(`the file has '${shift ? SHIFT : SCALE}' without '${shift ? SCALE : SHIFT}'; a normalizer needs both`);
  if (!kind) throw new FormatError(`the file has normalizer tensors but its config has no normalize kind`);
  const w = model.inputSize;
  const read = (name: string, entry: NonNullable<typeof shift>) => {
    if (entry.shape.length !== 1 || entry.shape[0] !== w) throw new FormatError(`tensor '${name}' has shape [${entry.shape.join(', ')}]; the model needs [${w}]`);
    const v = toFloat32(entry, name);
    for (let i = 0; i < w; i++) {
      if (!Number.isFinite(v[i]) || (name === SCALE && !(v[i] > 0))) {
        throw new FormatError(`tensor '${name}' holds ${v[i]} at index ${i}; expected ${name === SCALE ? 'a positive scale' : 'finite values'}`);
      }
    }
    expected.add(name);
    return v;
  };
  return { type: kind, shift: read(SHIFT, shift), scale: read(SCALE, scale) };
}

/** The threshold in the metadata (and the score it applies to), checked. */
export function readThreshold(model: DetectorState, meta: Record<string, string>): { value: number; metric: ScoreMetric } | null {
  if (meta.threshold === undefined) return null;
  const value = Number(meta.threshold);
  if (meta.threshold.trim() === '' || !Number.isFinite(value)) throw new FormatError(`__metadata__.threshold must be a finite number; got '${meta.threshold}'`);
  const metric = meta.thresholdMetric as ScoreMetric;
  if (!model.scoreMetrics.includes(metric)) {
    throw new FormatError(`__metadata__.thresholdMetric must be one of ${model.scoreMetrics.join(', ')}; got '${meta.thresholdMetric}'`);
  }
  return { value, metric };
}

/** Loads PyTorch-named weights (no metadata needed) into a model built from the given config. */
export function loadSafetensorsInto<M extends SavableModel>(model: M, bytes: Uint8Array | ArrayBuffer): M {
  try {
    loadTensorsInto(model, readSafetensors(asBytes(bytes, 'bytes')));
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
