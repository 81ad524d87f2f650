// Writes ViT model directories in the Hugging Face / transformers.js layout:
//   config.json, preprocessor_config.json, onnx/model.onnx

import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PreprocessorConfig } from '../../inference/types.ts';
import {
  VIT_PRESETS,
  defaultVitPreprocessor,
  validateVitConfig,
  vitConfigFromHf,
  vitConfigToHf,
  type VitConfig,
  type VitPreset,
} from './config.ts';
import { buildVitGraph } from './graph.ts';
import { readSafetensors } from './safetensors.ts';
import { syntheticVitWeights, type SyntheticWeightOptions } from './synthetic.ts';
import { checkVitWeights, vitParameterCount, type VitWeights } from './weights.ts';

export interface VitModelDirResult {
  readonly outDir: string;
  readonly modelFile: string;
  readonly modelBytes: number;
  /** Parameters of the Hugging Face model (the graph stores q/k/v fused and the CLS row folded, same total ± D). */
  readonly parameterCount: number;
  readonly config: VitConfig;
  /** Parameters in the source weights that a ViTForImageClassification does not use (e.g. a pooler). */
  readonly unusedParameters: readonly string[];
  /** onnx/model_quantized.onnx, when asked for. */
  readonly quantized?: { readonly modelFile: string; readonly modelBytes: number };
}

/** Dynamic int8 variant: per output channel (default, more accurate) or per tensor. */
export type VitQuantization = 'int8-per-channel' | 'int8-per-tensor';

export interface WriteVitModelDirOptions {
  readonly outDir: string;
  readonly config: VitConfig;
  readonly weights: VitWeights;
  /** Default: the seed model's ViTImageProcessor settings at the model's image size. */
  readonly preprocessor?: PreprocessorConfig;
  /** Extra fields merged into config.json (e.g. provenance). */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  /** Also write onnx/model_quantized.onnx (dynamic int8). */
  readonly quantize?: VitQuantization;
}

export async function writeVitModelDir(options: WriteVitModelDirOptions): Promise<VitModelDirResult> {
  const config = validateVitConfig(options.config);
  const unusedParameters = checkVitWeights(config, options.weights);
  const graph = buildVitGraph(config, options.weights);
  const modelFile = path.join(options.outDir, 'onnx', 'model.onnx');
  await mkdir(options.outDir, { recursive: true });
  const modelBytes = await graph.writeFile(modelFile);
  let quantized: VitModelDirResult['quantized'];
  if (options.quantize !== undefined) {
    const quantizedGraph = buildVitGraph(config, options.weights, {
      quantization: { perChannel: options.quantize === 'int8-per-channel' },
    });
    const quantizedFile = path.join(options.outDir, 'onnx', 'model_quantized.onnx');
    quantized = { modelFile: quantizedFile, modelBytes: await quantizedGraph.writeFile(quantizedFile) };
  }
  await writeJson(path.join(options.outDir, 'config.json'), { ...vitConfigToHf(config), ...options.extraConfig });
  await writeJson(
    path.join(options.outDir, 'preprocessor_config.json'),
    options.preprocessor ?? defaultVitPreprocessor(config),
  );
  return {
    outDir: options.outDir,
    modelFile,
    modelBytes,
    parameterCount: vitParameterCount(config),
    config,
    unusedParameters,
    ...(quantized ? { quantized } : {}),
  };
}

export interface SyntheticVitModelDirOptions extends SyntheticWeightOptions {
  readonly outDir: string;
  /** Default 'tiny'. */
  readonly preset?: VitPreset;
  /** Overrides of preset fields (e.g. labels, or a different size for tests). */
  readonly config?: Partial<VitConfig>;
  readonly quantize?: VitQuantization;
}

/** A complete model directory with seeded synthetic weights (for tests and benchmarks). */
export async function buildSyntheticVitModelDir(options: SyntheticVitModelDirOptions): Promise<VitModelDirResult> {
  const preset = options.preset ?? 'tiny';
  const config = validateVitConfig({ ...VIT_PRESETS[preset], ...options.config });
  const weights = syntheticVitWeights(config, options);
  return writeVitModelDir({
    outDir: options.outDir,
    config,
    weights,
    extraConfig: { fer_stream: { synthetic: true, preset, seed: options.seed ?? 0 } },
    ...(options.quantize ? { quantize: options.quantize } : {}),
  });
}

/**
 * Converts a Hugging Face ViTForImageClassification directory (config.json + model.safetensors,
 * optionally preprocessor_config.json) into a model directory with onnx/model.onnx.
 */
export async function convertHfVitModelDir(options: {
  from: string;
  outDir: string;
  quantize?: VitQuantization;
}): Promise<VitModelDirResult> {
  const configFile = path.join(options.from, 'config.json');
  const weightsFile = path.join(options.from, 'model.safetensors');
  for (const file of [configFile, weightsFile]) {
    try {
      await access(file);
    } catch {
      throw new Error(
        `${file} is missing: --from needs a Hugging Face ViTForImageClassification directory with config.json and model.safetensors`,
      );
    }
  }
  const hfConfig = await readJson(configFile);
  const architectures = (hfConfig as { architectures?: unknown }).architectures;
  if (Array.isArray(architectures) && !architectures.includes('ViTForImageClassification')) {
    throw new Error(
      `${configFile}: architectures ${JSON.stringify(architectures)} do not include ViTForImageClassification`,
    );
  }
  const config = vitConfigFromHf(hfConfig, configFile);
  const { tensors } = await readSafetensors(weightsFile);
  checkVitWeights(config, tensors, weightsFile);

  const preprocessorFile = path.join(options.from, 'preprocessor_config.json');
  let preprocessor: PreprocessorConfig | undefined;
  try {
    await access(preprocessorFile);
    preprocessor = (await readJson(preprocessorFile)) as PreprocessorConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return writeVitModelDir({
    outDir: options.outDir,
    config,
    weights: tensors,
    ...(preprocessor ? { preprocessor } : {}),
    ...(options.quantize ? { quantize: options.quantize } : {}),
  });
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: malformed JSON (${(error as Error).message})`, { cause: error });
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
