// onnxruntime-web 1.30, WASM execution provider, one thread, inference only: the card's
// autoencoder with OUR weights, exported by the library's toOnnx (Gemm(transB=1) + Relu/Sigmoid).
import * as ort from 'onnxruntime-web';
import { join } from 'node:path';
import { init, Autoencoder, toOnnx, writeSafetensors } from '../../dist/index.js';
import { CARD, LAYERS, PARAM_NAMES, ROOT } from '../lib/common.mjs';

export const label = () => 'onnxruntime-web 1.30 WASM (1 thread)';

export async function setup() {
  await init(); // only to build the model that toOnnx exports
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
}

export async function infer(batch, x, weights) {
  const session = await ort.InferenceSession.create(cardOnnx(weights), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const input = x.subarray(0, batch * 784);
  return {
    run: async () => (await session.run({ x: new ort.Tensor('float32', input, [batch, 784]) })).reconstruction.data,
    dispose: () => session.release(),
  };
}

export async function teardown() {}

/** The card's model with the reference weights, as ONNX: input x, outputs reconstruction, code. */
export function cardOnnx(weights) {
  const tensors = LAYERS.flatMap(([inn, out], i) => [
    { name: `${PARAM_NAMES[i]}.weight`, shape: [out, inn], data: weights[`${PARAM_NAMES[i]}.weight`] },
    { name: `${PARAM_NAMES[i]}.bias`, shape: [out], data: weights[`${PARAM_NAMES[i]}.bias`] },
  ]);
  const model = Autoencoder.fromSafetensors(writeSafetensors(tensors), CARD);
  try {
    return toOnnx(model);
  } finally {
    model.dispose();
  }
}
