// latent-wasm: train, apply, picture and inspect autoencoders and VAEs from the command line.
// Every command takes --help. Errors print one line on stderr and exit non-zero (2: usage,
// 1: bad input, 130: Ctrl-C); LATENT_WASM_DEBUG=1 adds the stack.
import { basename } from 'node:path';
import { Autoencoder, ConvAutoencoder, DenoisingAutoencoder, SparseAutoencoder, VAE, VERSION, init, readSafetensors, runtimeInfo } from 'latent-wasm';
import { pairRows, readFileBytes, saveFile } from 'latent-wasm/node';
import { choice, intList, num, parse } from './args.mjs';
import { readData } from './data.mjs';
import { DataError, Interrupted, UsageError, errorLine, exitCode } from './errors.mjs';
import { checkWidth, loadModelFile } from './model.mjs';
import { imageShape, writeGrid, writeRows } from './output.mjs';
import { progress } from './progress.mjs';

const str = { type: 'string' };
const OUT = { output: { type: 'string', short: 'o' } };
const COLUMNS = { columns: str };

const METRICS = ['mse', 'mae', 'euclidean', 'negElbo'];
const MODELS = { ae: Autoencoder, dae: DenoisingAutoencoder, sparse: SparseAutoencoder, vae: VAE, conv: ConvAutoencoder };

/** Every command: its arguments, flags, help text and what it does. */
const COMMANDS = {
  train: {
    args: ['data'],
    options: {
      ...OUT, ...COLUMNS, model: str, hidden: str, latent: str, epochs: str, 'batch-size': str, lr: str, normalize: str,
      seed: str, 'validation-split': str, activation: str, 'output-activation': str, loss: str, noise: str, sparsity: str,
      beta: str, filters: str, shape: str, threads: str,
    },
    help: `latent-wasm train <data> -o model.safetensors [flags]

Trains a model on the rows of <data> (IDX, gzipped or not; .csv with a header; .npy float32,
float64 or uint8; .json array of rows; bytes are scaled to [0, 1]) and saves it atomically.

  --model ae|dae|sparse|vae|conv   the model (default ae)
  --hidden 256,64                  encoder hidden widths (decoder mirrors them; default 256)
  --latent 32                      code width (default 32)
  --epochs 10  --batch-size 64  --lr 0.001  --seed 0  --validation-split 0
  --normalize standard|minmax|none normalization inside the model, saved in its file
  --activation relu                hidden activation
  --output-activation, --loss      default sigmoid + bce when the values trained on lie in [0, 1]
                                   (raw, or --normalize minmax), else linear + mse
  --noise 0.3                      dae: std of the Gaussian input noise
  --sparsity 1e-4                  sparse: weight of the L1 penalty on the code
  --beta 1                         vae: weight of the KL term
  --filters 16,32  --shape C,H,W   conv: channels per conv layer; the image shape
  --columns a,b,c                  CSV: the columns to use (default all)
  --threads 1|N|auto               threads for large products (default 1); the same model bits

A progress bar with loss and ETA on a terminal, one line per epoch otherwise. Ctrl-C stops
after the current batch and writes nothing.`,
    run: train,
  },
  encode: applyCommand('encode', 'the codes (the VAE: μ), one row per input row', 'z', (m, x) => [m.encode(x), m.latentSize]),
  reconstruct: applyCommand('reconstruct', 'the reconstructions, one row per input row', 'x', (m, x) => [m.reconstruct(x), m.inputSize]),
  score: applyCommand('score', 'the anomaly score of each row (--metric mse|mae|euclidean, VAE also negElbo; default mse)', 'score',
    (m, x, values) => [m.score(x, { metric: choice(values, 'metric', METRICS, 'mse') }), 1], { metric: str }),
  calibrate: {
    args: ['model', 'data'],
    options: { ...OUT, ...COLUMNS, contamination: str, quantile: str, max: { type: 'boolean' }, 'mean-std': str, metric: str },
    help: `latent-wasm calibrate <model.safetensors> <normal-data> (--contamination 0.01 | --quantile 0.99 | --max | --mean-std 3)
                    [--metric mse|mae|euclidean|negElbo] [-o calibrated.safetensors]

Sets the model's anomaly threshold from the scores of <normal-data> (mostly normal rows) by
one rule, and saves the model with it (atomically; in place unless -o is given).
  --contamination p   the (1 − p) quantile: that fraction of the rows is flagged
  --quantile q        the q quantile of the scores
  --max               the largest score
  --mean-std k        mean + k·std of the scores`,
    run: calibrate,
  },
  detect: {
    args: ['model', 'data'],
    options: { ...OUT, ...COLUMNS },
    help: `latent-wasm detect <calibrated.safetensors> <data> [-o out.csv|out.npy] [--columns a,b]

Scores each row with the metric the model was calibrated with and flags those above its
threshold: columns score and flag (1 = anomaly); CSV on stdout without -o. Prints how many
rows were flagged on stderr.`,
    run: detect,
  },
  sample: {
    args: ['vae'],
    options: { ...OUT, n: { type: 'string', short: 'n' }, seed: str, 'grid-columns': str, shape: str },
    help: `latent-wasm sample <vae.safetensors> -n 64 -o grid.png [--seed 0] [--grid-columns 8] [--shape H,W]

Decodes n draws from the VAE's prior N(0, I). -o .png tiles them into a grid; .csv or .npy
writes the rows.`,
    run: sample,
  },
  grid: {
    args: ['data|model', 'data?'],
    options: { ...OUT, ...COLUMNS, n: { type: 'string', short: 'n' }, 'grid-columns': str, shape: str },
    help: `latent-wasm grid <data> -o grid.png [-n 64]
latent-wasm grid <model.safetensors> <data> -o grid.png [-n 32]

Tiles the first n rows of <data> into a PNG grid; with a model, each row of inputs is drawn
above its reconstructions. --grid-columns sets images per grid row, --shape H,W or C,H,W the
image shape (default: the data's or model's own, else square).`,
    run: grid,
  },
  inspect: {
    args: ['model'],
    options: {},
    help: `latent-wasm inspect <model.safetensors>

Prints the file's metadata (format, versions, kind), the model summary (layers under PyTorch's
names, output shapes, parameter counts) and its full config.`,
    run: inspect,
  },
};

function applyCommand(name, what, prefix, apply, options = {}) {
  return {
    args: ['model', 'data'],
    options: { ...OUT, ...COLUMNS, ...options },
    help: `latent-wasm ${name} <model.safetensors> <data> [-o out.csv|out.npy] [--columns a,b]

Writes ${what}: -o .csv (with a header) or .npy (float32); CSV on stdout without -o.`,
    async run({ values, positionals: [modelPath, dataPath] }) {
      const model = await loadModelFile(modelPath);
      const data = await readData(dataPath, { columns: values.columns });
      checkWidth(data, model, dataPath);
      const [out, width] = apply(model, data.data, values);
      await writeRows(values.output, out, data.rows, width, prefix);
      if (values.output) console.log(`wrote ${values.output} (${data.rows} rows × ${width})`);
    },
  };
}

async function train({ values, positionals: [dataPath] }) {
  if (!values.output) throw new UsageError('-o <model.safetensors> is required');
  const kind = choice(values, 'model', Object.keys(MODELS), 'ae');
  const epochs = num(values, 'epochs', 10, { integer: true, min: 1 });
  const batchSize = num(values, 'batch-size', 64, { integer: true, min: 1 });
  const validationSplit = num(values, 'validation-split', 0, { min: 0, max: 0.99 });
  const data = await readData(dataPath, { columns: values.columns });
  const normalize = choice(values, 'normalize', ['standard', 'minmax', 'none'], undefined);
  // what the model trains on lies in [0, 1]: min-max scaled data, or raw data already there
  let inRange = normalize !== 'standard';
  if (normalize !== 'minmax') for (const v of data.data) if (v < 0 || v > 1) inRange = false;
  const config = {
    latentSize: num(values, 'latent', 32, { integer: true, min: 1 }),
    optimizer: { type: 'adam', learningRate: num(values, 'lr', 1e-3, { min: 0 }) },
    seed: num(values, 'seed', 0, { integer: true, min: 0 }),
    // sigmoid + BCE needs targets in [0, 1]; other data get a linear output and MSE
    outputActivation: values['output-activation'] ?? (inRange ? 'sigmoid' : 'linear'),
    loss: values.loss ?? (inRange ? 'bce' : 'mse'),
  };
  if (values.activation !== undefined) config.activation = values.activation;
  if (normalize !== undefined) config.normalize = normalize;
  const only = (flag, kinds) => {
    if (values[flag] !== undefined && !kinds.includes(kind)) throw new UsageError(`--${flag} applies to --model ${kinds.join('|')}`);
  };
  only('noise', ['dae']);
  only('sparsity', ['sparse']);
  only('beta', ['vae']);
  only('filters', ['conv']);
  if (kind === 'conv') {
    if (values.hidden !== undefined) throw new UsageError('--hidden does not apply to --model conv; use --filters');
    const shape = imageShape(values.shape, data.shape, data.width);
    config.inputShape = shape.length === 2 ? [1, ...shape] : shape;
    config.filters = intList(values, 'filters', [16, 32]);
  } else {
    config.inputSize = data.width;
    config.hidden = intList(values, 'hidden', [256]);
  }
  if (kind === 'dae') config.noise = { type: 'gaussian', std: num(values, 'noise', 0.3, { min: 0 }) };
  if (kind === 'sparse') config.sparsity = { l1: num(values, 'sparsity', 1e-4, { min: 0 }) };
  if (kind === 'vae') config.beta = num(values, 'beta', 1, { min: 0 });

  const model = new MODELS[kind](config);
  process.stderr.write(`${model.constructor.name} on ${data.rows} rows × ${data.width} from ${basename(dataPath)}: ` +
    `${config.outputActivation} output, ${config.loss} loss, ${epochs} epochs, batch ${batchSize}\n`);
  if (values.threads !== undefined) process.stderr.write(`threads: ${runtimeInfo().threads}\n`);
  const controller = new AbortController();
  let at = { epoch: 1, batch: 0 };
  const onSigint = () => controller.abort(new Interrupted(`interrupted (Ctrl-C) in epoch ${at.epoch}, after batch ${at.batch + 1}; nothing written`));
  process.once('SIGINT', onSigint);
  const bar = progress({ epochs });
  try {
    const history = await model.fit(data.data, {
      epochs, batchSize, validationSplit, shuffle: true, signal: controller.signal,
      onBatchEnd: (logs) => {
        at = logs;
        bar.batch(logs);
      },
      onEpochEnd: (logs) => bar.epoch(logs),
    });
    bar.stop();
    await saveFile(model, values.output);
    const last = history.epochs.at(-1);
    console.log(`wrote ${values.output} (${model.kind}, final loss ${last.loss.toFixed(5)}` +
      `${last.valLoss === undefined ? '' : `, val_loss ${last.valLoss.toFixed(5)}`})`);
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
    model.dispose();
  }
}

/** The model and data of calibrate and detect, width checked. */
async function modelAndData(modelPath, dataPath, values) {
  const model = await loadModelFile(modelPath);
  const data = await readData(dataPath, { columns: values.columns });
  checkWidth(data, model, dataPath);
  return { model, data };
}

async function calibrate({ values, positionals: [modelPath, dataPath] }) {
  const given = ['contamination', 'quantile', 'max', 'mean-std'].filter((k) => values[k] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one rule: --contamination, --quantile, --max or --mean-std');
  const rule = { metric: choice(values, 'metric', METRICS, 'mse') };
  if (values.contamination !== undefined) rule.contamination = num(values, 'contamination', 0, { min: 0, max: 1 });
  if (values.quantile !== undefined) rule.quantile = num(values, 'quantile', 0, { min: 0, max: 1 });
  if (values.max) rule.method = 'max';
  if (values['mean-std'] !== undefined) Object.assign(rule, { method: 'meanStd', k: num(values, 'mean-std', 3) });
  const { model, data } = await modelAndData(modelPath, dataPath, values);
  const threshold = model.calibrate(data.data, rule);
  const out = values.output ?? modelPath;
  await saveFile(model, out);
  const flagged = model.predict(data.data).reduce((n, f) => n + f, 0);
  console.log(`wrote ${out}: threshold ${threshold} (${rule.metric}); ${flagged} of ${data.rows} calibration rows above it`);
}

async function detect({ values, positionals: [modelPath, dataPath] }) {
  const { model, data } = await modelAndData(modelPath, dataPath, values);
  if (model.threshold === undefined) {
    throw new DataError(`${modelPath}: has no threshold; run latent-wasm calibrate ${modelPath} <normal-data> --contamination 0.01 first`);
  }
  const { scores, flags, threshold } = model.detect(data.data);
  const table = new Float32Array(data.rows * 2);
  scores.forEach((s, i) => {
    table[2 * i] = s;
    table[2 * i + 1] = flags[i];
  });
  await writeRows(values.output, table, data.rows, 2, ['score', 'flag']);
  const flagged = flags.reduce((n, f) => n + f, 0);
  console.error(`${flagged} of ${data.rows} rows flagged (${model.thresholdMetric} > ${threshold})${values.output ? `; wrote ${values.output}` : ''}`);
}

async function sample({ values, positionals: [modelPath] }) {
  if (!values.output) throw new UsageError('-o <grid.png|out.csv|out.npy> is required');
  const n = num(values, 'n', 64, { integer: true, min: 1, max: 100_000 });
  const model = await loadModelFile(modelPath);
  if (model.kind !== 'vae') throw new DataError(`${modelPath}: holds a model of kind '${model.kind}'; sample needs a VAE (train one with --model vae)`);
  const rows = model.sample(n, { seed: num(values, 'seed', 0, { integer: true, min: 0 }) });
  await writeImagesOrRows(values, rows, n, model.inputSize, imageShape(values.shape, undefined, model.inputSize), 'x');
}

async function writeImagesOrRows(values, rows, n, width, shape, prefix) {
  if (values.output.toLowerCase().endsWith('.png')) {
    const columns = num(values, 'grid-columns', undefined, { integer: true, min: 1 });
    const g = await writeGrid(values.output, rows, width, shape, columns);
    console.log(`wrote ${values.output} (${g.width}×${g.height} px, ${n} images)`);
  } else {
    await writeRows(values.output, rows, n, width, prefix);
    console.log(`wrote ${values.output} (${n} rows × ${width})`);
  }
}

async function grid({ values, positionals }) {
  if (!values.output) throw new UsageError('-o <grid.png> is required');
  const withModel = positionals.length === 2;
  const dataPath = positionals.at(-1);
  const model = withModel ? await loadModelFile(positionals[0]) : null;
  const data = await readData(dataPath, { columns: values.columns });
  if (model) checkWidth(data, model, dataPath);
  const want = num(values, 'n', withModel ? 32 : 64, { integer: true, min: 1 });
  const n = Math.min(want, data.rows);
  const columns = num(values, 'grid-columns', withModel ? Math.min(n, 16) : Math.ceil(Math.sqrt(n)), { integer: true, min: 1 });
  const modelShape = model?.config.inputShape;
  const shape = imageShape(values.shape, modelShape ?? data.shape, data.width);
  let rows = data.data.subarray(0, n * data.width);
  let count = n;
  if (model) {
    // whole grid rows only: each row of inputs sits above its reconstructions
    count = Math.max(columns, n - (n % columns));
    if (count > data.rows) throw new DataError(`${dataPath}: ${data.rows} rows; a grid of ${columns} per row needs at least ${columns}`);
    rows = data.data.subarray(0, count * data.width);
    rows = pairRows(rows, model.reconstruct(rows), data.width, columns);
  }
  if (!values.output.toLowerCase().endsWith('.png')) throw new UsageError(`-o ${values.output}: expected a .png file`);
  const g = await writeGrid(values.output, rows, data.width, shape, columns);
  console.log(`wrote ${values.output} (${g.width}×${g.height} px, ${count} ${model ? 'inputs above their reconstructions' : 'images'})`);
}

async function inspect({ positionals: [modelPath] }) {
  const model = await loadModelFile(modelPath);
  const bytes = await readFileBytes(modelPath);
  const { metadata } = readSafetensors(bytes);
  const { config: _config, ...meta } = metadata;
  console.log(`${modelPath} (${bytes.length.toLocaleString('en-US')} bytes)`);
  for (const [k, v] of Object.entries(meta)) console.log(`${k}: ${v}`);
  console.log(`\n${model.summary()}\n\nconfig:\n${JSON.stringify(model.config, null, 2)}`);
}

const HELP = `latent-wasm ${VERSION}: autoencoders and VAEs on WebAssembly, from the command line

  latent-wasm train <data> -o model.safetensors [--model ae|dae|sparse|vae|conv] [--epochs 10] ...
  latent-wasm encode|reconstruct|score <model> <data> [-o out.csv|out.npy]
  latent-wasm calibrate <model> <normal-data> --contamination 0.01 [-o calibrated.safetensors]
  latent-wasm detect <calibrated-model> <data> [-o flags.csv]
  latent-wasm sample <vae> -n 64 -o grid.png
  latent-wasm grid <data | model data> -o grid.png
  latent-wasm inspect <model>

Data: IDX (gzipped or not), .csv (header row), .npy (float32, float64, uint8), .json (rows).
latent-wasm <command> --help for each command's flags.`;

/** Runs one command line; returns the exit code. Errors print one line on stderr. */
export async function main(argv) {
  const [name, ...rest] = argv;
  try {
    if (name === '--version' || name === '-v') {
      console.log(VERSION);
      return 0;
    }
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      (name === undefined ? console.error : console.log)(HELP);
      return name === undefined ? 2 : 0;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new UsageError(`unknown command '${name}'; expected one of ${Object.keys(COMMANDS).join(', ')}`);
    const args = parse(rest, command.options, command.args);
    if (args.help) {
      console.log(command.help);
      return 0;
    }
    // --threads (train): 'auto' or a count; the results are the same bits for any count
    const { threads } = args.values;
    await init(threads === undefined ? {} : { threads: threads === 'auto' ? 'auto' : num(args.values, 'threads', 1, { integer: true, min: 1, max: 64 }) });
    await command.run(args);
    return 0;
  } catch (e) {
    const hint = exitCode(e) === 2 && COMMANDS[name] ? ` (latent-wasm ${name} --help)` : '';
    console.error(`latent-wasm: ${errorLine(e)}${hint}`);
    if (process.env.LATENT_WASM_DEBUG) console.error(e);
    return exitCode(e);
  }
}
