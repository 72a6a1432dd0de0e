// A minimal ONNX writer: just enough protobuf (ModelProto → GraphProto → NodeProto, TensorProto
// initializers, ValueInfoProto) to express a stack of dense layers as Gemm(transB=1) + Relu/Sigmoid,
// so onnxruntime-web can run the card's autoencoder with OUR weights. No onnx npm dependency.
// Field numbers: onnx/onnx.proto3 (ONNX IR version 8, opset 13).

const enc = new TextEncoder();

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** One protobuf message as a list of byte chunks. */
class Msg {
  chunks = [];
  int(field, value) {
    this.chunks.push(Uint8Array.from([...varint((field << 3) | 0), ...varint(value)]));
    return this;
  }
  bytes(field, data) {
    this.chunks.push(Uint8Array.from([...varint((field << 3) | 2), ...varint(data.length)]), data);
    return this;
  }
  str(field, s) {
    return this.bytes(field, enc.encode(s));
  }
  msg(field, m) {
    return this.bytes(field, m.finish());
  }
  finish() {
    const n = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

function tensor(name, dims, values) {
  const t = new Msg();
  for (const d of dims) t.int(1 /* dims */, d);
  t.int(2 /* data_type */, FLOAT).str(8 /* name */, name);
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength); // little-endian f32
  return t.bytes(9 /* raw_data */, raw);
}

function valueInfo(name, dims) {
  const shape = new Msg();
  for (const d of dims) shape.msg(1 /* dim */, typeof d === 'string' ? new Msg().str(2 /* dim_param */, d) : new Msg().int(1 /* dim_value */, d));
  const tensorType = new Msg().int(1 /* elem_type */, FLOAT).msg(2 /* shape */, shape);
  return new Msg().str(1 /* name */, name).msg(2 /* type */, new Msg().msg(1 /* tensor_type */, tensorType));
}

function node(op, inputs, outputs, attrs = {}) {
  const n = new Msg();
  for (const i of inputs) n.str(1 /* input */, i);
  for (const o of outputs) n.str(2 /* output */, o);
  n.str(3 /* name */, outputs[0] + '_' + op).str(4 /* op_type */, op);
  for (const [k, v] of Object.entries(attrs)) n.msg(5 /* attribute */, new Msg().str(1, k).int(3 /* i */, v).int(20 /* type */, ATTR_INT));
  return n;
}

/**
 * @param {{ weight: Float32Array, bias: Float32Array, in: number, out: number, act: 'relu'|'sigmoid'|'linear' }[]} layers
 *   PyTorch layout: weight [out × in]
 * @returns {Uint8Array} the serialized ModelProto; input 'x' [batch × in0], output 'y'
 */
export function denseStackOnnx(layers) {
  const g = new Msg().str(2 /* name */, 'dense_stack');
  let cur = 'x';
  layers.forEach((l, i) => {
    const z = `z${i}`;
    g.msg(1 /* node */, node('Gemm', [cur, `w${i}`, `b${i}`], [z], { transB: 1 }));
    cur = z;
    if (l.act !== 'linear') {
      const y = i === layers.length - 1 ? 'y' : `h${i}`;
      g.msg(1, node(l.act === 'relu' ? 'Relu' : 'Sigmoid', [z], [y]));
      cur = y;
    }
    g.msg(5 /* initializer */, tensor(`w${i}`, [l.out, l.in], l.weight));
    g.msg(5, tensor(`b${i}`, [l.out], l.bias));
  });
  if (cur !== 'y') g.msg(1, node('Identity', [cur], ['y']));
  g.msg(11 /* input */, valueInfo('x', ['batch', layers[0].in]));
  g.msg(12 /* output */, valueInfo('y', ['batch', layers[layers.length - 1].out]));
  return new Msg()
    .int(1 /* ir_version */, 8)
    .str(2 /* producer_name */, 'latent-wasm bench')
    .msg(7 /* graph */, g)
    .msg(8 /* opset_import */, new Msg().str(1 /* domain */, '').int(2 /* version */, 13))
    .finish();
}
