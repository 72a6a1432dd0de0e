// onnxruntime-web 1.30, WASM execution provider, one thread, inference only: the card's
// autoencoder exported from OUR weights as Gemm(transB=1) + Relu/Sigmoid (lib/onnx.mjs).
import * as ort from 'onnxruntime-web';
import { join } from 'node:path';
import { ROOT, layersWithWeights } from '../lib/common.mjs';
import { denseStackOnnx } from '../lib/onnx.mjs';

export const label = () => 'onnxruntime-web 1.30 WASM (1 thread)';

export async function setup() {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
}

export async function infer(batch, x, weights) {
  const session = await ort.InferenceSession.create(denseStackOnnx(layersWithWeights(weights)), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const input = x.subarray(0, batch * 784);
  return {
    run: async () => (await session.run({ x: new ort.Tensor('float32', input, [batch, 784]) })).y.data,
    dispose: () => session.release(),
  };
}

export async function teardown() {}
