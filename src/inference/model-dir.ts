// Model directories in the Hugging Face / transformers.js layout:
//   config.json               id2label, label2id, architecture fields
//   preprocessor_config.json  ViTImageProcessor fields (PreprocessorConfig)
//   onnx/model.onnx           plus optional variants, e.g. onnx/model_quantized.onnx
// Everything is validated on load, and each problem gets its own message. Labels always come from
// id2label, never from a list in code.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { InferenceConfig } from '../config/inference.ts';
import type { Logger } from '../core/logger.ts';
import { FerError } from '../core/errors.ts';
import { mapModelLabels, type LabelMapping } from '../core/expressions.ts';
import { createInferenceHost, hostOptionsFromConfig, type ThreadSessionHost } from './backend/index.ts';
import { checkPreprocessorConfig } from './preprocess.ts';
import type { PreprocessorConfig, TensorInfo } from './types.ts';
import { warmUp } from './backend/warm-up.ts';
import { AUTO_VARIANT, autoVariant } from './model-variant.ts';

/** Input and output names of an image-classification model (as transformers.js expects them). */
export const PIXEL_VALUES = 'pixel_values';
export const LOGITS = 'logits';

export interface ModelDirectory {
  readonly dir: string;
  /** Directory name: how results and metrics name the model. */
  readonly name: string;
  /** The model's own labels in output order, from config.json's id2label. */
  readonly labels: readonly string[];
  /** How its outputs are reported: the canonical expression names and order where they map (core/expressions.ts). */
  readonly reported: LabelMapping;
  readonly preprocessor: PreprocessorConfig;
  /** config.json as written (architecture fields included), for ModelInfo and inspection. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly variant: string;
  /** Why this variant (FER_MODEL_VARIANT=auto: model-variant.ts); absent when the variant was named. */
  readonly variantReason?: string;
  readonly modelPath: string;
  /** Input channels (config.json num_channels; always 3, as preprocessing produces RGB). */
  readonly channels: 3;
}

function invalid(dir: string, message: string): FerError {
  return new FerError('model_invalid', `model directory ${dir}: ${message}`);
}

async function readJson(dir: string, file: string): Promise<unknown> {
  const full = path.join(dir, file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FerError('model_missing', `model directory ${dir}: ${file} is missing`);
    throw invalid(dir, `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(dir, `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

const positiveInt = z.number().int().positive();
const triple = z
  .union([z.number(), z.array(z.number()).length(3)])
  .transform((v) => (typeof v === 'number' ? ([v, v, v] as const) : ([v[0]!, v[1]!, v[2]!] as const)));

// Missing fields take Hugging Face ViTImageProcessor's defaults, as transformers does.
const preprocessorSchema = z
  .object({
    image_processor_type: z.string().optional(),
    do_resize: z.boolean().default(true),
    size: z
      .union([
        z.object({ height: positiveInt, width: positiveInt }),
        positiveInt.transform((n) => ({ height: n, width: n })),
      ])
      .default({ height: 224, width: 224 }),
    resample: z.number().int().min(0).max(5).default(2),
    do_rescale: z.boolean().default(true),
    rescale_factor: z
      .number()
      .positive()
      .default(1 / 255),
    do_normalize: z.boolean().default(true),
    image_mean: triple.default([0.5, 0.5, 0.5]),
    image_std: triple
      .refine((std) => std.every((s) => s !== 0), 'image_std must not contain 0 (division by zero)')
      .default([0.5, 0.5, 0.5]),
    channel_order: z.enum(['rgb', 'bgr']).optional(),
    pad_to_square: z.boolean().optional(),
  })
  .passthrough();

/** Validates a parsed preprocessor_config.json; `where` names it in errors. */
export function parsePreprocessorConfig(raw: unknown, where = 'preprocessor_config.json'): PreprocessorConfig {
  if (raw !== null && typeof raw === 'object' && 'size' in raw) {
    const size = (raw as { size: unknown }).size;
    if (size !== null && typeof size === 'object' && 'shortest_edge' in size && !('height' in size)) {
      throw new FerError(
        'model_invalid',
        `${where}: size.shortest_edge is not supported; give size.height and size.width`,
      );
    }
  }
  const parsed = preprocessorSchema.safeParse(raw);
  if (!parsed.success) throw new FerError('model_invalid', `${where}: ${describeIssues(parsed.error)}`);
  const { image_mean, image_std, ...rest } = parsed.data;
  return {
    ...rest,
    image_mean: [...image_mean] as [number, number, number],
    image_std: [...image_std] as [number, number, number],
  };
}

/** Labels in id order from config.json's id2label, checked against label2id and num_labels. */
export function labelsFromConfig(config: Record<string, unknown>, where = 'config.json'): string[] {
  const id2label = config.id2label;
  if (id2label === undefined)
    throw new FerError('model_invalid', `${where}: id2label is missing (labels always come from id2label)`);
  if (id2label === null || typeof id2label !== 'object' || Array.isArray(id2label)) {
    throw new FerError(
      'model_invalid',
      `${where}: id2label must be an object mapping ids ("0", "1", …) to label names`,
    );
  }
  const entries = Object.entries(id2label as Record<string, unknown>);
  if (entries.length === 0) throw new FerError('model_invalid', `${where}: id2label is empty`);
  const labels: string[] = new Array(entries.length);
  for (const [key, value] of entries) {
    if (!/^(0|[1-9]\d*)$/.test(key))
      throw new FerError('model_invalid', `${where}: id2label key "${key}" is not a non-negative integer`);
    const id = Number(key);
    if (id >= entries.length) {
      throw new FerError(
        'model_invalid',
        `${where}: id2label ids must be 0..${entries.length - 1} without gaps, found id ${id}`,
      );
    }
    if (typeof value !== 'string' || value.trim() === '')
      throw new FerError('model_invalid', `${where}: id2label["${key}"] must be a non-empty string`);
    labels[id] = value;
  }
  const seen = new Set<string>();
  for (const label of labels) {
    if (seen.has(label)) throw new FerError('model_invalid', `${where}: label "${label}" appears twice in id2label`);
    seen.add(label);
  }

  const label2id = config.label2id;
  if (label2id === undefined)
    throw new FerError('model_invalid', `${where}: label2id is missing (it must be the inverse of id2label)`);
  if (label2id === null || typeof label2id !== 'object' || Array.isArray(label2id)) {
    throw new FerError('model_invalid', `${where}: label2id must be an object mapping label names to ids`);
  }
  const inverse = label2id as Record<string, unknown>;
  for (const [id, label] of labels.entries()) {
    const mapped = inverse[label];
    if (mapped === undefined)
      throw new FerError('model_invalid', `${where}: label2id has no entry for "${label}" (id2label["${id}"])`);
    if (Number(mapped) !== id)
      throw new FerError(
        'model_invalid',
        `${where}: label2id["${label}"] is ${JSON.stringify(mapped)} but id2label gives it id ${id}`,
      );
  }
  const extra = Object.keys(inverse).filter((label) => !seen.has(label));
  if (extra.length > 0)
    throw new FerError('model_invalid', `${where}: label2id has labels not in id2label: ${extra.join(', ')}`);

  if (config.num_labels !== undefined && config.num_labels !== labels.length) {
    throw new FerError(
      'model_invalid',
      `${where}: num_labels is ${JSON.stringify(config.num_labels)} but id2label has ${labels.length} labels`,
    );
  }
  return labels;
}

async function variantsIn(onnxDir: string): Promise<string[]> {
  const files = await readdir(onnxDir).catch(() => [] as string[]);
  return files
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => f.slice(0, -'.onnx'.length))
    .sort();
}

/**
 * Reads and validates a model directory (files, JSON, labels, preprocessing, variant file). The
 * ONNX graph's inputs and outputs are checked separately against a session, by `checkModelIo`.
 */
export async function readModelDir(dir: string, options: { variant?: string } = {}): Promise<ModelDirectory> {
  const variant = options.variant ?? 'model';
  if (!/^[\w.-]+$/.test(variant))
    throw new FerError(
      'model_invalid',
      `model variant "${variant}" is not a plain file name (expected e.g. model, model_quantized)`,
    );
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) throw new FerError('model_missing', `model directory not found: ${dir}`);
  if (!info.isDirectory()) throw new FerError('model_invalid', `model path is not a directory: ${dir}`);

  const rawConfig = await readJson(dir, 'config.json');
  if (rawConfig === null || typeof rawConfig !== 'object' || Array.isArray(rawConfig))
    throw invalid(dir, 'config.json must contain a JSON object');
  const config = rawConfig as Record<string, unknown>;
  const labels = labelsFromConfig(config, `model directory ${dir}: config.json`);
  const channels = config.num_channels ?? 3;
  // Preprocessing always produces three channels (RGB or BGR).
  if (channels !== 3)
    throw invalid(
      dir,
      `config.json num_channels must be 3 (preprocessing produces RGB), got ${JSON.stringify(config.num_channels)}`,
    );

  const preprocessor = parsePreprocessorConfig(
    await readJson(dir, 'preprocessor_config.json'),
    `model directory ${dir}: preprocessor_config.json`,
  );
  try {
    // What preprocessing itself can honour (e.g. which resample filters it implements).
    checkPreprocessorConfig(preprocessor);
  } catch (error) {
    throw invalid(dir, (error as Error).message);
  }
  if (!preprocessor.do_resize)
    throw invalid(
      dir,
      'preprocessor_config.json do_resize is false: batching needs every image resized to size.height × size.width',
    );
  if (config.image_size !== undefined) {
    const size = config.image_size;
    if (typeof size !== 'number' || size !== preprocessor.size.height || size !== preprocessor.size.width) {
      throw invalid(
        dir,
        `config.json image_size ${JSON.stringify(size)} does not match preprocessor_config.json size ${preprocessor.size.height}×${preprocessor.size.width}`,
      );
    }
  }

  const modelPath = path.join(dir, 'onnx', `${variant}.onnx`);
  const modelFile = await stat(modelPath).catch(() => undefined);
  if (modelFile === undefined || !modelFile.isFile()) {
    const available = await variantsIn(path.join(dir, 'onnx'));
    throw new FerError(
      'model_missing',
      `model directory ${dir}: onnx/${variant}.onnx is missing (variants present: ${available.length > 0 ? available.join(', ') : 'none'})`,
    );
  }
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    labels,
    reported: mapModelLabels(labels),
    preprocessor,
    config,
    variant,
    modelPath,
    channels,
  };
}

const showShape = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

/**
 * Checks the ONNX graph's declared inputs and outputs (as a session reports them) against the
 * directory: input `pixel_values` float32 [batch, channels, height, width] with a dynamic batch,
 * output `logits` [batch, labels].
 */
export function checkModelIo(
  model: ModelDirectory,
  io: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] },
): void {
  const where = `model ${model.modelPath}`;
  const fail = (message: string) => new FerError('model_invalid', `${where}: ${message}`);
  const input = io.inputs.find((i) => i.name === PIXEL_VALUES);
  if (input === undefined)
    throw fail(
      `expected an input named "${PIXEL_VALUES}", the model has ${io.inputs.map((i) => `"${i.name}"`).join(', ') || 'none'}`,
    );
  if (io.inputs.length !== 1)
    throw fail(
      `expected exactly one input ("${PIXEL_VALUES}"), the model has ${io.inputs.length}: ${io.inputs.map((i) => i.name).join(', ')}`,
    );
  if (input.type !== 'float32') throw fail(`input "${PIXEL_VALUES}" is ${input.type}, expected float32`);
  const { height, width } = model.preprocessor.size;
  const expected = ['batch', model.channels, height, width] as const;
  if (input.shape.length !== 4)
    throw fail(`input "${PIXEL_VALUES}" has shape ${showShape(input.shape)}, expected ${showShape(expected)}`);
  if (typeof input.shape[0] === 'number' && input.shape[0] !== -1) {
    throw fail(`input "${PIXEL_VALUES}" has a fixed batch dimension ${input.shape[0]}; batching needs a dynamic one`);
  }
  for (let axis = 1; axis < 4; axis++) {
    const dim = input.shape[axis];
    if (typeof dim === 'number' && dim !== -1 && dim !== expected[axis]) {
      throw fail(
        `input "${PIXEL_VALUES}" has shape ${showShape(input.shape)}, but config.json/preprocessor_config.json declare ${showShape(expected)}`,
      );
    }
  }
  const output = io.outputs.find((o) => o.name === LOGITS);
  if (output === undefined)
    throw fail(
      `expected an output named "${LOGITS}", the model has ${io.outputs.map((o) => `"${o.name}"`).join(', ') || 'none'}`,
    );
  if (output.type !== 'float32') throw fail(`output "${LOGITS}" is ${output.type}, expected float32`);
  if (output.shape.length !== 2)
    throw fail(`output "${LOGITS}" has shape ${showShape(output.shape)}, expected [batch, ${model.labels.length}]`);
  const classes = output.shape[1];
  if (typeof classes === 'number' && classes !== -1 && classes !== model.labels.length) {
    throw fail(`the model outputs ${classes} classes but id2label has ${model.labels.length} labels`);
  }
}

/** A validated model directory with its sessions started. */
export interface OpenedModel {
  readonly model: ModelDirectory;
  readonly host: ThreadSessionHost;
}

/**
 * Reads a model directory, starts its sessions (config: providers, threads, variant) and checks the
 * graph's inputs and outputs against the directory; the host is closed again if that check fails.
 */
export async function openModelDir(dir: string, config: InferenceConfig, logger?: Logger): Promise<OpenedModel> {
  if (config.modelVariant === AUTO_VARIANT) {
    const choice = await autoVariant(dir);
    const opened = await openModelDir(dir, { ...config, modelVariant: choice.variant }, logger);
    if (choice.variant === 'model' || opened.host.executionProvider === 'cpu')
      return { ...opened, model: { ...opened.model, variantReason: choice.reason } };
    // Dynamic int8 is a CPU speed-up: an accelerator runs fp32.
    await opened.host.close();
    const fp32 = await openModelDir(dir, { ...config, modelVariant: 'model' }, logger);
    return {
      ...fp32,
      model: {
        ...fp32.model,
        variantReason: `fp32: int8 is for CPU sessions; this one runs on ${fp32.host.executionProvider}`,
      },
    };
  }
  const model = await readModelDir(dir, { variant: config.modelVariant });
  const host = await createInferenceHost(hostOptionsFromConfig(config, model.modelPath, logger));
  try {
    checkModelIo(model, host);
    const { height, width } = model.preprocessor.size;
    await warmUp(host, PIXEL_VALUES, [config.maxBatchSize, model.channels, height, width]);
  } catch (error) {
    await host.close();
    throw error;
  }
  return { model, host };
}
