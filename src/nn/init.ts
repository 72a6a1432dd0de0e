import { InputError } from '../errors.js';
import type { Tensor } from '../runtime/memory.js';
import type { Rng } from '../runtime/rng.js';
import type { Kernels } from '../runtime/kernels.js';

/**
 * Weight initializers for a [fanOut × fanIn] weight and its bias.
 * - glorotUniform (default): U(±√(6/(fanIn+fanOut))), zero bias (Glorot & Bengio, 2010).
 * - glorotNormal: N(0, 2/(fanIn+fanOut)), zero bias.
 * - heUniform: U(±√(6/fanIn)); heNormal: N(0, 2/fanIn), zero bias (He et al., 2015).
 * - pytorch: torch.nn.Linear's default, kaiming_uniform(a=√5) = U(±1/√fanIn) for the weight and
 *   U(±1/√fanIn) for the bias, for reproducing PyTorch runs.
 * Only square roots are taken on the host: IEEE sqrt is correctly rounded on every engine.
 */
export const INITIALIZERS = ['glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'pytorch'] as const;
export type InitName = (typeof INITIALIZERS)[number];

export function checkInit(name: unknown): asserts name is InitName {
  if (!INITIALIZERS.includes(name as InitName)) {
    throw new InputError(`init must be one of ${INITIALIZERS.join(', ')}; got ${JSON.stringify(name)}`);
  }
}

export function initDense(k: Kernels, rng: Rng, name: InitName, w: Tensor, b: Tensor, fanIn: number, fanOut: number): void {
  switch (name) {
    case 'glorotUniform': {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      rng.uniform(w, -a, a);
      break;
    }
    case 'glorotNormal':
      rng.normal(w, 0, Math.sqrt(2 / (fanIn + fanOut)));
      break;
    case 'heUniform': {
      const a = Math.sqrt(6 / fanIn);
      rng.uniform(w, -a, a);
      break;
    }
    case 'heNormal':
      rng.normal(w, 0, Math.sqrt(2 / fanIn));
      break;
    case 'pytorch': {
      const a = 1 / Math.sqrt(fanIn);
      rng.uniform(w, -a, a);
      rng.uniform(b, -a, a);
      return;
    }
  }
  k.fill(b, 0);
}
