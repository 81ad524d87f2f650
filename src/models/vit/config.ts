// ViT image-classification configuration: presets, and Hugging Face `config.json` reading/writing.

import type { PreprocessorConfig } from '../../inference/types.ts';

export interface VitConfig {
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly intermediateSize: number;
  readonly patchSize: number;
  readonly imageSize: number;
  readonly numChannels: number;
  readonly layerNormEps: number;
  /** Only exact (erf) GELU, as Hugging Face's "gelu". */
  readonly hiddenAct: 'gelu';
  /** Whether the query/key/value projections have biases (HF `qkv_bias`, default true). */
  readonly qkvBias: boolean;
  /** Label names by class id (HF id2label). */
  readonly labels: readonly string[];
}

/** The seed model's labels (motheecreator/vit-Facial-Expression-Recognition), ids 0..6. */
export const DEFAULT_LABELS: readonly string[] = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'];

export const VIT_PRESETS = {
  /** ViT-B/16 at 224×224, as the seed model (≈86 M parameters). */
  base: {
    hiddenSize: 768,
    numHiddenLayers: 12,
    numAttentionHeads: 12,
    intermediateSize: 3072,
    patchSize: 16,
    imageSize: 224,
    numChannels: 3,
    layerNormEps: 1e-12,
    hiddenAct: 'gelu',
    qkvBias: true,
    labels: DEFAULT_LABELS,
  },
  /**
   * A small ViT with the same input (224×224, patch 16, so the same preprocessing and token count)
   * for fast tests: 2 layers, width 64 (≈0.2 M parameters).
   */
  tiny: {
    hiddenSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 256,
    patchSize: 16,
    imageSize: 224,
    numChannels: 3,
    layerNormEps: 1e-12,
    hiddenAct: 'gelu',
    qkvBias: true,
    labels: DEFAULT_LABELS,
  },
} as const satisfies Record<string, VitConfig>;

export type VitPreset = keyof typeof VIT_PRESETS;

export function isVitPreset(name: string): name is VitPreset {
  return Object.hasOwn(VIT_PRESETS, name);
}

/** Throws a specific error for an inconsistent configuration. */
export function validateVitConfig(config: VitConfig): VitConfig {
  const positive = [
    'hiddenSize',
    'numHiddenLayers',
    'numAttentionHeads',
    'intermediateSize',
    'patchSize',
    'imageSize',
    'numChannels',
  ] as const;
  for (const key of positive) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`ViT config: ${key} must be a positive integer, got ${v}`);
  }
  if (config.hiddenSize % config.numAttentionHeads !== 0) {
    throw new RangeError(
      `ViT config: hidden size ${config.hiddenSize} is not divisible by ${config.numAttentionHeads} attention heads`,
    );
  }
  if (config.imageSize % config.patchSize !== 0) {
    throw new RangeError(
      `ViT config: image size ${config.imageSize} is not a multiple of patch size ${config.patchSize}`,
    );
  }
  if (!(config.layerNormEps > 0))
    throw new RangeError(`ViT config: layer_norm_eps must be > 0, got ${config.layerNormEps}`);
  if (config.hiddenAct !== 'gelu')
    throw new RangeError(`ViT config: hidden_act "${String(config.hiddenAct)}" is not supported (only "gelu", exact)`);
  if (config.labels.length < 1) throw new RangeError('ViT config: at least one label is needed');
  if (new Set(config.labels).size !== config.labels.length)
    throw new RangeError(`ViT config: duplicate label names in [${config.labels.join(', ')}]`);
  return config;
}

/** Tokens the encoder sees: one per patch plus the CLS token. */
export function sequenceLength(config: VitConfig): number {
  return (config.imageSize / config.patchSize) ** 2 + 1;
}

/** Reads the ViT fields of a Hugging Face `config.json` (already parsed); `source` names it in errors. */
export function vitConfigFromHf(json: unknown, source = 'config.json'): VitConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${source}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new Error(
        `${source}: "${key}" must be an integer${Array.isArray(v) ? ' (non-square images and patches are not supported)' : ''}, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  if (c.model_type !== undefined && c.model_type !== 'vit')
    throw new Error(`${source}: model_type is "${String(c.model_type)}", expected "vit"`);
  const act = c.hidden_act ?? 'gelu';
  if (act !== 'gelu')
    throw new Error(`${source}: hidden_act "${String(act)}" is not supported (only "gelu", the exact erf form)`);
  const eps = c.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number') throw new Error(`${source}: "layer_norm_eps" must be a number`);
  const qkvBias = c.qkv_bias ?? true;
  if (typeof qkvBias !== 'boolean') throw new Error(`${source}: "qkv_bias" must be a boolean`);
  try {
    return validateVitConfig({
      hiddenSize: int('hidden_size'),
      numHiddenLayers: int('num_hidden_layers'),
      numAttentionHeads: int('num_attention_heads'),
      intermediateSize: int('intermediate_size'),
      patchSize: int('patch_size'),
      imageSize: int('image_size'),
      numChannels: int('num_channels', 3),
      layerNormEps: eps,
      hiddenAct: 'gelu',
      qkvBias,
      labels: labelsFromId2Label(c.id2label, source),
    });
  } catch (error) {
    if (error instanceof RangeError) throw new Error(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

function labelsFromId2Label(value: unknown, source: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${source}: "id2label" must be an object of id → label name`);
  const entries = Object.entries(value as Record<string, unknown>);
  const labels: string[] = new Array(entries.length);
  for (const [key, name] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || String(id) !== key) {
      throw new Error(`${source}: id2label key "${key}" is not an id in 0..${entries.length - 1}`);
    }
    if (typeof name !== 'string' || name === '')
      throw new Error(`${source}: id2label["${key}"] must be a non-empty string`);
    labels[id] = name;
  }
  return labels;
}

/** A Hugging Face `config.json` for ViTForImageClassification (transformers and transformers.js read it). */
export function vitConfigToHf(config: VitConfig): Record<string, unknown> {
  return {
    architectures: ['ViTForImageClassification'],
    model_type: 'vit',
    attention_probs_dropout_prob: 0.0,
    encoder_stride: config.patchSize,
    hidden_act: config.hiddenAct,
    hidden_dropout_prob: 0.0,
    hidden_size: config.hiddenSize,
    id2label: Object.fromEntries(config.labels.map((name, id) => [String(id), name])),
    label2id: Object.fromEntries(config.labels.map((name, id) => [name, id])),
    image_size: config.imageSize,
    initializer_range: 0.02,
    intermediate_size: config.intermediateSize,
    layer_norm_eps: config.layerNormEps,
    num_attention_heads: config.numAttentionHeads,
    num_channels: config.numChannels,
    num_hidden_layers: config.numHiddenLayers,
    patch_size: config.patchSize,
    problem_type: 'single_label_classification',
    qkv_bias: config.qkvBias,
    torch_dtype: 'float32',
  };
}

/**
 * The seed model's preprocessing (ViTImageProcessor): bilinear resize to the model's size, rescale 1/255, normalise
 * with 0.5/0.5.
 */
export function defaultVitPreprocessor(config: VitConfig): PreprocessorConfig {
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: config.imageSize, width: config.imageSize },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
}
