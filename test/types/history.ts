// Type-checked by test/typed-history.node.test.ts (never run): fit's history and evaluate are
// records typed by the model's metric names, so a misspelt name does not compile.
import { Autoencoder, SparseAutoencoder, VAE } from '../../src/index.js';

export async function check(vae: VAE, ae: Autoencoder, sparse: SparseAutoencoder, x: Float32Array): Promise<number[]> {
  const h = await vae.fit(x);
  const ok: number[] = h.metrics.negElbo;
  const kl: number[] = h.metrics.kl;
  // @ts-expect-error: a typo of negElbo
  h.metrics.negElb0;
  // validation metrics exist only with validation data
  // @ts-expect-error: possibly undefined
  const v: number[] = h.metrics.valNegElbo;
  const e: number = vae.evaluate(x).negElbo;
  // @ts-expect-error: a typo of reconstruction
  vae.evaluate(x).reconstrucion;
  const ha = await ae.fit(x);
  // @ts-expect-error: a plain autoencoder reports no kl
  ha.metrics.kl;
  const pen: number[] | undefined = ha.metrics.penalty;
  const mse: number = ae.evaluate(x).mse;
  const hs = await sparse.fit(x);
  const pens: number[] = hs.metrics.penalty;
  return [...ok, ...kl, ...v, e, ...(pen ?? []), mse, ...pens];
}
