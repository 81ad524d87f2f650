// An independent float64 forward pass of Hugging Face's ViTForImageClassification, written
// directly from the model's definition (modeling_vit.py) with the state-dict weights as they are
// (PyTorch layouts), one image and one token at a time. Deliberately naive: no fusion, no folding.

import type { VitConfig } from '../../../src/models/vit/config.ts';
import type { VitWeights } from '../../../src/models/vit/weights.ts';

type Vec = Float64Array;

/** erf to ~1e-15: Maclaurin series for |x| < 3, continued fraction of erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

function layerNorm(x: Vec, weight: Float32Array, bias: Float32Array, eps: number): Vec {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ((x[i]! - mean) / Math.sqrt(variance + eps)) * weight[i]! + bias[i]!;
  return out;
}

/** torch.nn.Linear: y = W x + b with W stored [out, in]. */
function linear(x: Vec, weight: Float32Array, bias: Float32Array | undefined, outSize: number): Vec {
  const inSize = x.length;
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let s = bias ? bias[o]! : 0;
    for (let i = 0; i < inSize; i++) s += weight[o * inSize + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** Logits of one image given as CHW float values. */
export function referenceVitLogits(config: VitConfig, weights: VitWeights, pixels: Float32Array): Float64Array {
  const W = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`reference: missing ${name}`);
    return t.data;
  };
  const D = config.hiddenSize;
  const C = config.numChannels;
  const p = config.patchSize;
  const size = config.imageSize;
  const grid = size / p;
  const heads = config.numAttentionHeads;
  const hs = D / heads;
  const eps = config.layerNormEps;

  // Embeddings: [CLS, patch_0 … patch_{P-1}] + position embeddings (patches in row-major order).
  const conv = W('vit.embeddings.patch_embeddings.projection.weight'); // [D, C, p, p]
  const convBias = W('vit.embeddings.patch_embeddings.projection.bias');
  const cls = W('vit.embeddings.cls_token');
  const pos = W('vit.embeddings.position_embeddings');
  let tokens: Vec[] = [];
  tokens.push(Float64Array.from({ length: D }, (_, d) => cls[d]! + pos[d]!));
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const t = tokens.length;
      const e = new Float64Array(D);
      for (let d = 0; d < D; d++) {
        let s = convBias[d]!;
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < p; ky++) {
            for (let kx = 0; kx < p; kx++) {
              s += conv[((d * C + c) * p + ky) * p + kx]! * pixels[(c * size + gy * p + ky) * size + gx * p + kx]!;
            }
          }
        }
        e[d] = s + pos[t * D + d]!;
      }
      tokens.push(e);
    }
  }

  const S = tokens.length;
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const pre = `vit.encoder.layer.${l}`;
    const bias = (name: string) => (config.qkvBias ? W(name) : undefined);
    const normed = tokens.map((x) =>
      layerNorm(x, W(`${pre}.layernorm_before.weight`), W(`${pre}.layernorm_before.bias`), eps),
    );
    const q = normed.map((x) =>
      linear(x, W(`${pre}.attention.attention.query.weight`), bias(`${pre}.attention.attention.query.bias`), D),
    );
    const k = normed.map((x) =>
      linear(x, W(`${pre}.attention.attention.key.weight`), bias(`${pre}.attention.attention.key.bias`), D),
    );
    const v = normed.map((x) =>
      linear(x, W(`${pre}.attention.attention.value.weight`), bias(`${pre}.attention.attention.value.bias`), D),
    );
    const context = Array.from({ length: S }, () => new Float64Array(D));
    for (let h = 0; h < heads; h++) {
      for (let s = 0; s < S; s++) {
        const scores = new Float64Array(S);
        for (let t = 0; t < S; t++) {
          let dot = 0;
          for (let j = 0; j < hs; j++) dot += q[s]![h * hs + j]! * k[t]![h * hs + j]!;
          scores[t] = dot / Math.sqrt(hs);
        }
        const max = Math.max(...scores);
        let sum = 0;
        for (let t = 0; t < S; t++) sum += scores[t] = Math.exp(scores[t]! - max);
        for (let t = 0; t < S; t++) {
          const prob = scores[t]! / sum;
          for (let j = 0; j < hs; j++) context[s]![h * hs + j]! += prob * v[t]![h * hs + j]!;
        }
      }
    }
    tokens = tokens.map((x, s) => {
      const attn = linear(
        context[s]!,
        W(`${pre}.attention.output.dense.weight`),
        W(`${pre}.attention.output.dense.bias`),
        D,
      );
      const afterAttention = x.map((value, d) => value + attn[d]!);
      const n2 = layerNorm(afterAttention, W(`${pre}.layernorm_after.weight`), W(`${pre}.layernorm_after.bias`), eps);
      const mid = linear(
        n2,
        W(`${pre}.intermediate.dense.weight`),
        W(`${pre}.intermediate.dense.bias`),
        config.intermediateSize,
      ).map(gelu);
      const out = linear(mid, W(`${pre}.output.dense.weight`), W(`${pre}.output.dense.bias`), D);
      return afterAttention.map((value, d) => value + out[d]!);
    });
  }
  const finalTokens = tokens.map((x) => layerNorm(x, W('vit.layernorm.weight'), W('vit.layernorm.bias'), eps));
  return linear(finalTokens[0]!, W('classifier.weight'), W('classifier.bias'), config.labels.length);
}
