// ViT parameters by their Hugging Face names (ViTForImageClassification state dict), in PyTorch
// layouts: Linear weights [out, in], the patch convolution [hidden, channels, patch, patch].

import type { VitConfig } from './config.ts';
import { sequenceLength } from './config.ts';

export interface WeightTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export type VitWeights = ReadonlyMap<string, WeightTensor>;

/** Every parameter of a ViTForImageClassification with its shape, in state-dict order. */
export function vitParameterShapes(config: VitConfig): Map<string, number[]> {
  const D = config.hiddenSize;
  const I = config.intermediateSize;
  const p = config.patchSize;
  const shapes = new Map<string, number[]>([
    ['vit.embeddings.cls_token', [1, 1, D]],
    ['vit.embeddings.position_embeddings', [1, sequenceLength(config), D]],
    ['vit.embeddings.patch_embeddings.projection.weight', [D, config.numChannels, p, p]],
    ['vit.embeddings.patch_embeddings.projection.bias', [D]],
  ]);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const l = `vit.encoder.layer.${i}`;
    for (const proj of ['query', 'key', 'value']) {
      shapes.set(`${l}.attention.attention.${proj}.weight`, [D, D]);
      if (config.qkvBias) shapes.set(`${l}.attention.attention.${proj}.bias`, [D]);
    }
    shapes.set(`${l}.attention.output.dense.weight`, [D, D]);
    shapes.set(`${l}.attention.output.dense.bias`, [D]);
    shapes.set(`${l}.intermediate.dense.weight`, [I, D]);
    shapes.set(`${l}.intermediate.dense.bias`, [I]);
    shapes.set(`${l}.output.dense.weight`, [D, I]);
    shapes.set(`${l}.output.dense.bias`, [D]);
    for (const norm of ['layernorm_before', 'layernorm_after']) {
      shapes.set(`${l}.${norm}.weight`, [D]);
      shapes.set(`${l}.${norm}.bias`, [D]);
    }
  }
  shapes.set('vit.layernorm.weight', [D]);
  shapes.set('vit.layernorm.bias', [D]);
  shapes.set('classifier.weight', [config.labels.length, D]);
  shapes.set('classifier.bias', [config.labels.length]);
  return shapes;
}

export function vitParameterCount(config: VitConfig): number {
  let n = 0;
  for (const dims of vitParameterShapes(config).values()) n += dims.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Checks that `weights` has every parameter the configuration needs, each with its shape.
 * Returns the names it does not use (e.g. a pooler), which callers may report.
 */
export function checkVitWeights(config: VitConfig, weights: VitWeights, source = 'weights'): string[] {
  const shapes = vitParameterShapes(config);
  const missing = [...shapes.keys()].filter((name) => !weights.has(name));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ');
    throw new Error(
      `${source}: ${missing.length} ViT parameter(s) missing: ${shown}${missing.length > 5 ? ', …' : ''}`,
    );
  }
  for (const [name, dims] of shapes) {
    const tensor = weights.get(name)!;
    if (tensor.dims.length !== dims.length || tensor.dims.some((d, i) => d !== dims[i])) {
      throw new Error(
        `${source}: parameter ${name} has shape [${tensor.dims.join(', ')}], the configuration needs [${dims.join(', ')}]`,
      );
    }
    if (tensor.data.length !== dims.reduce((a, b) => a * b, 1))
      throw new Error(`${source}: parameter ${name} holds ${tensor.data.length} values for shape [${dims.join(', ')}]`);
  }
  return [...weights.keys()].filter((name) => !shapes.has(name));
}
