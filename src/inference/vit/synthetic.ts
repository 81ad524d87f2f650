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
export function syntheticVitWeights(config: VitConfig, options: SyntheticWeightOptions = {}): Map<string, WeightTensor> {
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

/** Fills `out` with normal(0, std) values from a xoshiro128** stream (Box–Muller, both outputs used). */
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
  let a = next32(), b = next32(), c = next32(), d = next32();
  const uniform = () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return (result + 0.5) / 4294967296; // in (0, 1): log() stays finite
  };
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())) * std;
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
