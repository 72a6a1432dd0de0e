// ONNX export: a model of the family as an ONNX ModelProto that ONNX Runtime (servers, Triton,
// onnxruntime-web) runs with the model's own weights. Field numbers and operator semantics:
// onnx/onnx.proto3 and docs/Operators.md of the ONNX repository (opsets 17–21). Only what the
// model's layers need is written; each layer maps to the operators PyTorch's exporter would give
// its torch.nn module, so a graph reads like the model's nn.Sequential.
import { InputError, LatentError } from '../errors.js';
import { checkInt, checkKeys } from '../data.js';
import { VERSION } from '../version.js';
import type { ActivationName } from '../runtime/kernels.js';
import type { Layer } from '../nn/layer.js';
import type { Sequential } from '../nn/sequential.js';
import type { ConvTranspose2d } from '../nn/conv.js';
import type { Pool2d } from '../nn/pool.js';
import type { Upsample } from '../nn/upsample.js';
import type { AnyModel } from './load-model.js';
import { VAE } from '../models/vae.js';
import { QuantizedModel, type QuantizedLayer } from '../models/quantized.js';
import { ProtoWriter } from './protobuf.js';

export interface OnnxOptions {
  /** ONNX opset of the default domain, 17 to 21. Default 17 (ONNX Runtime ≥ 1.14); from 20 on,
   *  GELU is one Gelu node (approximate = 'tanh'), below it is composed from Mul, Add, Sigmoid. */
  opset?: number;
  /** 'reconstruct' (default): input `x` (rows × inputSize) → `reconstruction` plus the code
   *  (`code`; a VAE gives `mu` and `logvar`). 'decode': input `z` (rows × latentSize) →
   *  `reconstruction`, the decoder alone (a VAE's sampler). */
  graph?: 'reconstruct' | 'decode';
}

const OPTION_KEYS = ['opset', 'graph'] as const;
const MIN_OPSET = 17;
const MAX_OPSET = 21;
/** The IR version each opset came with (onnx/helper.py VERSION_TABLE): a file must declare at
 *  least this, and older runtimes refuse newer IR versions, so declare exactly this. */
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** The model kinds toOnnx exports, by their graph: the Autoencoder family, the VAE and the int8
 *  models made from them. */
const AUTOENCODER_KINDS = ['autoencoder', 'denoisingAutoencoder', 'sparseAutoencoder', 'convAutoencoder'];
const EXPORTABLE = [...AUTOENCODER_KINDS, 'vae', 'quantized'];

// TensorProto.DataType and AttributeProto.AttributeType (onnx.proto3)
const DT_FLOAT = 1;
const DT_UINT8 = 2;
const DT_INT8 = 3;
const DT_INT64 = 7;
const AT_FLOAT = 1;
const AT_INT = 2;
const AT_STRING = 3;
const AT_INTS = 7;

type Attr = { i: number } | { f: number } | { s: string } | { ints: readonly number[] };

// GELU's constants as the core has them (assembly/activations.ts), so the composed form computes
// x·σ(x·(G1 + G2·x²)) from the same f32 values.
const G1 = new Float32Array(new Uint32Array([0x3fcc422a]).buffer); // 1.59576917 = 2·√(2/π)
const G2 = new Float32Array(new Uint32Array([0x3d922279]).buffer); // 0.0713548139 = 2·√(2/π)·0.044715

/** A GraphProto under construction: nodes in order, initializers, inputs and outputs. */
class GraphBuilder {
  readonly proto = new ProtoWriter();
  private readonly names = new Set<string>();

  constructor(readonly opset: number, name: string) {
    this.proto.string(2 /* name */, name);
  }

  node(op: string, inputs: readonly string[], output: string, attrs: Record<string, Attr> = {}): string {
    if (this.names.has(output)) throw new LatentError(`toOnnx: the value name '${output}' is used twice`); // an exporter bug, never the user's
    this.names.add(output);
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1 /* input */, i);
    n.string(2 /* output */, output).string(3 /* name */, `${op}:${output}`).string(4 /* op_type */, op);
    for (const [key, v] of Object.entries(attrs)) {
      const a = new ProtoWriter().string(1 /* name */, key);
      if ('i' in v) a.int(3 /* i */, v.i).int(20 /* type */, AT_INT);
      else if ('f' in v) a.float(2 /* f */, v.f).int(20, AT_FLOAT);
      else if ('s' in v) a.string(4 /* s */, v.s).int(20, AT_STRING);
      else {
        for (const x of v.ints) a.int(8 /* ints */, x);
        a.int(20, AT_INTS);
      }
      n.message(5 /* attribute */, a);
    }
    this.proto.message(1 /* node */, n);
    return output;
  }

  /** A constant tensor (weights, shapes, scalars): f32, (u)int8 or int64, stored as little-endian raw_data. */
  initializer(name: string, dims: readonly number[], values: Float32Array | Int8Array | Uint8Array | BigInt64Array): string {
    if (this.names.has(name)) return name;
    this.names.add(name);
    const t = new ProtoWriter();
    for (const d of dims) t.int(1 /* dims */, d);
    const type = values instanceof Float32Array ? DT_FLOAT : values instanceof Int8Array ? DT_INT8 : values instanceof Uint8Array ? DT_UINT8 : DT_INT64;
    t.int(2 /* data_type */, type).string(8 /* name */, name);
    // typed arrays are little-endian on every engine that runs WebAssembly
    t.bytes(9 /* raw_data */, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    this.proto.message(5 /* initializer */, t);
    return name;
  }

  shape(name: string, dims: readonly number[]): string {
    return this.initializer(name, [dims.length], BigInt64Array.from(dims, (d) => BigInt(d)));
  }

  input(name: string, width: number): void {
    this.proto.message(11 /* input */, valueInfo(name, width));
  }

  output(name: string, width: number): void {
    this.proto.message(12 /* output */, valueInfo(name, width));
  }
}

/** A float tensor [N, width] with a symbolic batch dimension N. */
function valueInfo(name: string, width: number): ProtoWriter {
  const shape = new ProtoWriter()
    .message(1 /* dim */, new ProtoWriter().string(2 /* dim_param */, 'N'))
    .message(1, new ProtoWriter().int(1 /* dim_value */, width));
  const tensor = new ProtoWriter().int(1 /* elem_type */, DT_FLOAT).message(2 /* shape */, shape);
  return new ProtoWriter().string(1 /* name */, name).message(2 /* type */, new ProtoWriter().message(1 /* tensor_type */, tensor));
}

/** The activation that ends a layer, from `x` to the value named `out`; linear gives x back. */
function activation(g: GraphBuilder, name: ActivationName, alpha: number, x: string, out: string): string {
  switch (name) {
    case 'linear': return x;
    case 'relu': return g.node('Relu', [x], out);
    case 'leakyRelu': return g.node('LeakyRelu', [x], out, { alpha: { f: alpha } });
    case 'elu': return g.node('Elu', [x], out, { alpha: { f: alpha } });
    case 'sigmoid': return g.node('Sigmoid', [x], out);
    case 'tanh': return g.node('Tanh', [x], out);
    // PyTorch returns x above 20 where ONNX computes log(1 + eˣ): they differ by < e⁻²⁰ ≈ 2·10⁻⁹,
    // below half an ulp of x there, so the f32 results agree.
    case 'softplus': return g.node('Softplus', [x], out);
    case 'gelu': {
      if (g.opset >= 20) return g.node('Gelu', [x], out, { approximate: { s: 'tanh' } });
      const c1 = g.initializer('gelu.g1', [], G1);
      const c2 = g.initializer('gelu.g2', [], G2);
      const x2 = g.node('Mul', [x, x], `${out}/x2`);
      const v = g.node('Mul', [x, g.node('Add', [c1, g.node('Mul', [c2, x2], `${out}/g2x2`)], `${out}/dv`)], `${out}/v`);
      return g.node('Mul', [x, g.node('Sigmoid', [v], `${out}/s`)], out);
    }
    default:
      throw new InputError(`toOnnx: no ONNX form for the activation '${String(name)}'`);
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Reshapes value x (per-sample shape `from`) to per-sample shape `to`, if they differ. */
function reshapeTo(g: GraphBuilder, x: string, from: readonly number[], to: readonly number[], out: string): string {
  if (sameShape(from, to)) return x;
  if (to.length === 1) return g.node('Flatten', [x], out, { axis: { i: 1 } });
  return g.node('Reshape', [x, g.shape(`${out}/shape`, [-1, ...to])], out);
}

/**
 * The nodes of one Sequential from value `x` (rows of per-sample shape seq.inShape, possibly
 * flat) on; returns the name of its output, of per-sample shape `shape.current`. Values are named
 * after the torch module that computes them (`encoder.0` the Linear, `encoder.1` its ReLU).
 */
function sequential(g: GraphBuilder, seq: Sequential, x: string, shape: { current: readonly number[] }, weights: Record<string, Float32Array>): string {
  let index = 0;
  for (const layer of seq.layers) {
    const at = `${seq.prefix}.${index}`;
    const type = layer.spec.type;
    // a Linear flattens what comes in; every other layer takes its own per-sample shape
    x = reshapeTo(g, x, shape.current, type === 'dense' ? [layer.inSize] : layer.inShape, `${at}/in`);
    const params = Object.fromEntries(layer.params().map((p) => [p.name.slice(at.length + 1), g.initializer(p.name, p.shape, weights[p.name])]));
    const alpha = (layer as Layer & { alpha?: number }).alpha ?? 0;
    switch (type) {
      case 'dense':
        x = g.node('Gemm', [x, params.weight, params.bias], at, { transB: { i: 1 } });
        break;
      case 'conv2d':
      case 'convTranspose2d': {
        const { kh, kw, sh, sw, ph, pw, dh, dw } = (layer as ConvTranspose2d).g;
        const attrs: Record<string, Attr> = {
          kernel_shape: { ints: [kh, kw] }, strides: { ints: [sh, sw] }, pads: { ints: [ph, pw, ph, pw] }, dilations: { ints: [dh, dw] },
        };
        if (type === 'convTranspose2d') {
          // the output padding that gives back the layer's own output size (ONNX's formula:
          // s·(in − 1) + output_padding + d·(k − 1) + 1 − 2p)
          const [, ih, iw] = layer.inShape;
          const [, oh, ow] = layer.outShape;
          attrs.output_padding = { ints: [oh - (sh * (ih - 1) + dh * (kh - 1) + 1 - 2 * ph), ow - (sw * (iw - 1) + dw * (kw - 1) + 1 - 2 * pw)] };
        }
        x = g.node(type === 'conv2d' ? 'Conv' : 'ConvTranspose', [x, params.weight, params.bias], at, attrs);
        break;
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        const { kh, kw, sh, sw, ph, pw } = (layer as Pool2d).g;
        const attrs: Record<string, Attr> = { kernel_shape: { ints: [kh, kw] }, strides: { ints: [sh, sw] }, pads: { ints: [ph, pw, ph, pw] } };
        // torch's AvgPool2d default count_include_pad=True; floor mode in both (ceil_mode 0)
        if (type === 'avgPool2d') attrs.count_include_pad = { i: 1 };
        x = g.node(type === 'maxPool2d' ? 'MaxPool' : 'AveragePool', [x], at, attrs);
        break;
      }
      case 'upsample': {
        const u = layer as Upsample;
        const scales = g.initializer(`${at}/scales`, [4], Float32Array.from([1, 1, u.fh, u.fw]));
        // torch nearest: src = ⌊dst / scale⌋ (asymmetric, floor); bilinear with align_corners=False:
        // src = (dst + ½)/scale − ½ clamped at the edges (half_pixel)
        const attrs: Record<string, Attr> = u.mode === 'nearest'
          ? { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } }
          : { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'half_pixel' } };
        x = g.node('Resize', [x, '', scales], at, attrs);
        break;
      }
      case 'flatten':
      case 'reshape':
        x = reshapeTo(g, x, shape.current, layer.outShape, at);
        break;
      case 'dropout':
        break; // the identity in inference
      default:
        throw new InputError(`toOnnx: ${at} is a '${String(type)}' layer, which has no ONNX export`);
    }
    shape.current = layer.outShape;
    x = activation(g, layer.activationName, alpha, x, `${seq.prefix}.${index + 1}`);
    index += layer.modules;
  }
  return x;
}

const scalar = (g: GraphBuilder, name: string, v: number) => g.initializer(name, [], Float32Array.of(v));

/**
 * One int8 dense layer from value `x`, op for op what the core computes (assembly/int8.ts, the
 * table of docs/int8.md), so every step is one IEEE f32 operation or exact integer arithmetic:
 *   s   = max|x[i, :]| / 127 per row (ReduceMax of Abs; 1 where that is not > 0), or the layer's
 *         static `input_scale`
 *   xq  = Clip(Round(x / s), −127, 127)                   (Round is ties to even, as f32.nearest)
 *   acc = MatMulInteger(Cast<uint8>(xq + 128), Transpose(W), a_zero_point = 128)
 *       = Σ xq·W exactly in int32; the activations go in as uint8 with zero point 128 because
 *         onnxruntime-web's u8×s8 kernel is ~10× faster than its s8×s8 one (docs/onnx.md)
 *   z   = ((Cast<float>(acc) · s) · weight_scale) + bias, then the layer's activation.
 * Not QDQ (QuantizeLinear → DequantizeLinear → Gemm): ONNX Runtime runs that as its own fused
 * integer or float kernels, whose results differed from ours by up to 4·10⁻³ (docs/onnx.md),
 * where this graph gives our bits. The scales stay two Muls in our order: ONNX
 * Runtime fuses MatMulInteger → Cast → Mul whose other input is a Mul (a_scale·b_scale) into
 * MatMulIntegerToFloat (onnxruntime/core/optimizer/matmul_integer_to_float.cc), which rounds
 * acc·(s·s_w) instead of (acc·s)·s_w; this graph does not match that pattern and runs as written.
 */
function quantizedDense(g: GraphBuilder, l: QuantizedLayer, x: string): string {
  const n = l.name;
  const qmax = scalar(g, 'int8.qmax', 127);
  let s: string;
  if (l.inputScale > 0) s = scalar(g, `${n}.input_scale`, l.inputScale);
  else {
    const abs = g.node('Abs', [x], `${n}/abs`);
    const keep = { keepdims: { i: 1 } };
    // opset 18 moved ReduceMax's axes from an attribute to an input
    const max = g.opset >= 18
      ? g.node('ReduceMax', [abs, g.shape('int8.axis1', [1])], `${n}/absmax`, keep)
      : g.node('ReduceMax', [abs], `${n}/absmax`, { ...keep, axes: { ints: [1] } });
    const s0 = g.node('Div', [max, qmax], `${n}/scale0`);
    const positive = g.node('Greater', [s0, scalar(g, 'int8.zero', 0)], `${n}/scale0_positive`);
    s = g.node('Where', [positive, s0, scalar(g, 'int8.one', 1)], `${n}/input_scale`);
  }
  const rounded = g.node('Round', [g.node('Div', [x, s], `${n}/x_scaled`)], `${n}/x_rounded`);
  const clipped = g.node('Clip', [rounded, scalar(g, 'int8.qmin', -127), qmax], `${n}/x_clipped`);
  const xq = g.node('Cast', [g.node('Add', [clipped, scalar(g, 'int8.zero_point', 128)], `${n}/x_shifted`)], `${n}/x_q`, { to: { i: DT_UINT8 } });
  // the weight keeps PyTorch's [out, in]; ONNX Runtime folds the Transpose when it loads the file
  const w = g.node('Transpose', [g.initializer(`${n}.weight`, [l.outSize, l.inSize], l.weight)], `${n}.weight/t`, { perm: { ints: [1, 0] } });
  const zeroPoint = g.initializer('int8.x_zero_point', [], Uint8Array.of(128));
  const acc = g.node('Cast', [g.node('MatMulInteger', [xq, w, zeroPoint], `${n}/acc`)], `${n}/acc_f32`, { to: { i: DT_FLOAT } });
  const scaled = g.node('Mul', [g.node('Mul', [acc, s], `${n}/acc_sa`), g.initializer(`${n}.weight_scale`, [l.outSize], l.weightScale)], `${n}/acc_sa_sw`);
  const z = g.node('Add', [scaled, g.initializer(`${n}.bias`, [l.outSize], l.bias)], n);
  // the activation's value is named as the torch module after the Linear (`encoder.1`)
  const at = /^(.*)\.(\d+)$/.exec(n);
  return activation(g, l.activation, l.alpha, z, at ? `${at[1]}.${Number(at[2]) + 1}` : `${n}/act`);
}

/**
 * The model as an ONNX file (a serialized ModelProto, opset 17–21): the same layers, weights
 * under their PyTorch names, inputs and outputs as rows of flat samples like the model's own
 * methods. See OnnxOptions for the graphs.
 */
export function toOnnx(model: AnyModel | QuantizedModel, options: OnnxOptions = {}): Uint8Array {
  if (typeof model !== 'object' || model === null || typeof (model as { kind?: unknown }).kind !== 'string') {
    throw new InputError(`toOnnx: model must be a model of the family (${EXPORTABLE.join(', ')}); got ${model === null ? 'null' : typeof model}`);
  }
  const kind = model.kind;
  if (!EXPORTABLE.includes(kind)) {
    throw new InputError(`toOnnx cannot export a model of kind '${kind}'; it exports ${EXPORTABLE.join(', ')}`);
  }
  if (typeof options !== 'object' || options === null) throw new InputError('toOnnx options must be an object like { opset: 17 }');
  checkKeys(options, OPTION_KEYS, 'toOnnx options');
  const opset = checkInt(options.opset ?? MIN_OPSET, 'options.opset', MIN_OPSET);
  if (opset > MAX_OPSET) throw new InputError(`options.opset must be at most ${MAX_OPSET}; got ${opset}`);
  const graph = options.graph ?? 'reconstruct';
  if (graph !== 'reconstruct' && graph !== 'decode') {
    throw new InputError(`options.graph must be 'reconstruct' or 'decode'; got ${JSON.stringify(graph)}`);
  }
  // the weights (DisposedError for a disposed model): the int8 layers, or the f32 tensors by name
  const int8 = model instanceof QuantizedModel ? model.getLayers() : null;
  const weights = model instanceof QuantizedModel ? {} : model.getWeights();
  const conv = int8 && [...int8.encoder, ...int8.decoder].find((l) => l.type !== undefined);
  if (conv) {
    throw new InputError(`toOnnx: the int8 model's layer ${conv.name} is a ${conv.type}, and int8 convolutions have no ONNX export yet; export the f32 model instead`);
  }

  // the model's normalizer, x' = (x − shift)/scale per feature, as Sub and Div on the input and
  // Mul and Add on the reconstruction (f32 operations in the order the model does them)
  const norm = model.normalizer;
  if (model.config.normalize !== undefined && !norm) {
    throw new InputError(`toOnnx: the model's ${model.config.normalize} normalizer has no statistics yet: call fit(x) or fitNormalizer(x) first`);
  }
  const g = new GraphBuilder(opset, `${kind}_${graph}`);
  /** The nodes of the model's encoder or decoder from value x; returns the output's name. */
  const part = (which: 'encoder' | 'decoder', x: string, shape: { current: readonly number[] }): string =>
    model instanceof QuantizedModel ? int8![which].reduce((h, l) => quantizedDense(g, l, h), x) : sequential(g, model[which], x, shape, weights);
  const shift = norm && g.initializer('normalizer.shift', [model.inputSize], norm.shift);
  const scale = norm && g.initializer('normalizer.scale', [model.inputSize], norm.scale);
  const decoder = (z: string, width: number) => {
    const shape = { current: [width] as readonly number[] };
    let y = reshapeTo(g, part('decoder', z, shape), shape.current, [model.inputSize], 'decoder/out');
    if (shift && scale) y = g.node('Add', [g.node('Mul', [y, scale], 'decoder/scaled'), shift], 'decoder/denormalized');
    g.output(g.node('Identity', [y], 'reconstruction'), model.inputSize);
  };
  if (graph === 'decode') {
    g.input('z', model.latentSize);
    decoder('z', model.latentSize);
  } else {
    g.input('x', model.inputSize);
    const x = shift && scale ? g.node('Div', [g.node('Sub', ['x', shift], 'x/centered'), scale], 'x/normalized') : 'x';
    const shape = { current: [model.inputSize] as readonly number[] };
    const h = part('encoder', x, shape);
    if (model instanceof VAE) {
      // the heads take the trunk's output (x itself when the trunk is empty); decode(μ) is the
      // deterministic reconstruction, as model.reconstruct computes it
      const trunk = reshapeTo(g, h, shape.current, [model.muHead.inSize], 'encoder/out');
      for (const head of [model.muHead, model.logVarHead]) {
        const [w, b] = head.params();
        const out = w.name.split('.')[0];
        g.node('Gemm', [trunk, g.initializer(w.name, w.shape, weights[w.name]), g.initializer(b.name, b.shape, weights[b.name])], out, { transB: { i: 1 } });
      }
      decoder('mu', model.latentSize);
      g.output('mu', model.latentSize);
      g.output('logvar', model.latentSize);
    } else if (model instanceof QuantizedModel && model.config.source === 'vae') {
      // the int8 VAE's encoder ends with its μ head, named `mu`; it has no log σ² head (docs/int8.md)
      decoder(h, model.latentSize);
      g.output(h, model.latentSize);
    } else {
      decoder(h, model.latentSize);
      g.output(g.node('Identity', [h], 'code'), model.latentSize);
    }
  }
  return new ProtoWriter()
    .int(1 /* ir_version */, IR_VERSION[opset])
    .string(2 /* producer_name */, 'latent-wasm')
    .string(3 /* producer_version */, VERSION)
    .message(7 /* graph */, g.proto)
    .message(8 /* opset_import */, new ProtoWriter().string(1 /* domain */, '').int(2 /* version */, opset))
    .message(14 /* metadata_props */, new ProtoWriter().string(1 /* key */, 'latent-wasm.kind').string(2 /* value */, kind))
    .finish();
}
