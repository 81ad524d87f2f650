// Seeded synthetic ViT weights for tests and benchmarks, initialised as Hugging Face's
// ViTPreTrainedModel._init_weights does: weights and embeddings normal(0, 0.02), biases 0,
// LayerNorm weight 1 and bias 0. Options add random biases and norms so that tests exercise them.

import type { VitConfig } from './config.ts';
import { vitParameterShapes, type WeightTensor } from './weights.ts';

export interface SyntheticWeightOptions {
  readonly seed?: number;
  /** Standard deviation of weights, embeddings and the CLS token (HF initializer_range: 0.02). */
  readonly std?: number;
  /** Standard deviation of Linear/conv biases (HF init: 0). */
  readonly biasStd?: number;
  /** LayerNorm weight = 1 + normStd·z, bias = normStd·z (HF init: 0, i.e. 1 and 0). */
  readonly normStd?: number;
}

/**
 * Deterministic: every parameter draws from its own stream seeded by (seed, parameter name), so a
 * parameter's values do not depend on which others exist or in which order they are generated.
 */
export function syntheticVitWeights(
  config: VitConfig,
  options: SyntheticWeightOptions = {},
): Map<string, WeightTensor> {
  const seed = options.seed ?? 0;
  const std = options.std ?? 0.02;
  const biasStd = options.biasStd ?? 0;
  const normStd = options.normStd ?? 0;
  const weights = new Map<string, WeightTensor>();
  for (const [name, dims] of vitParameterShapes(config)) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const isNorm = /layernorm/.test(name);
    const isBias = name.endsWith('.bias');
    const scale = isNorm ? normStd : isBias ? biasStd : std;
    if (scale !== 0) fillNormal(data, scale, streamSeed(seed, name));
    if (isNorm && !isBias) for (let i = 0; i < data.length; i++) data[i]! += 1;
    weights.set(name, { dims, data });
  }
  return weights;
}

/** FNV-1a of the name mixed with the seed: one independent 32-bit stream seed per parameter. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Fills `out` with normal(0, std) values from a xoshiro128** stream (Marsaglia's polar method,
 * both outputs used). The generator is inlined in the loop: ViT-B needs 86 M values.
 */
export function fillNormal(out: Float32Array, std: number, seed: number): void {
  // splitmix32 expands the seed into the four state words.
  let z = seed >>> 0;
  const next32 = () => {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z ^ (z >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let a = next32(),
    b = next32(),
    c = next32(),
    d = next32();
  const n = out.length;
  let i = 0;
  while (i < n) {
    let u: number, v: number, s: number;
    do {
      // Two xoshiro128** steps → u, v uniform in [-1, 1).
      let m = Math.imul(b, 5);
      let r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      let t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      u = r / 2147483648 - 1;
      m = Math.imul(b, 5);
      r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      v = r / 2147483648 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt((-2 * Math.log(s)) / s) * std;
    out[i++] = u * scale;
    if (i < n) out[i++] = v * scale;
  }
}
