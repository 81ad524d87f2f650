// `fer-stream models build-vit`: a ViT model directory from synthetic weights or from a Hugging
// Face ViTForImageClassification checkpoint (config.json + model.safetensors).

import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  buildSyntheticVitModelDir,
  convertHfVitModelDir,
  isVitPreset,
  type VitModelDirResult,
  type VitQuantization,
} from '../../../models/vit/index.ts';
import { parseCommandArgs, UsageError } from '../../args.ts';
import { EXIT_CODES, type Command } from '../../command.ts';

const QUANTIZATIONS: Record<string, VitQuantization | undefined> = {
  'per-channel': 'int8-per-channel',
  'per-tensor': 'int8-per-tensor',
};

const buildVit: Pick<Command, 'run'> = {
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        synthetic: { type: 'boolean', default: false },
        preset: { type: 'string' },
        seed: { type: 'string' },
        from: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        quantize: { type: 'string' },
      },
      false,
    );
    if (values.out === undefined) throw new UsageError('--out DIR is required');
    if (values.synthetic === (values.from !== undefined))
      throw new UsageError('give exactly one of --synthetic and --from DIR');
    if (values.from !== undefined && (values.preset !== undefined || values.seed !== undefined)) {
      throw new UsageError(
        '--preset and --seed apply to --synthetic only (with --from the configuration comes from config.json)',
      );
    }
    const preset = values.preset ?? 'tiny';
    if (!isVitPreset(preset)) throw new UsageError(`--preset must be tiny or base, got "${preset}"`);
    const seed = values.seed === undefined ? 0 : Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`);
    const quantize = values.quantize === undefined ? undefined : QUANTIZATIONS[values.quantize];
    if (values.quantize !== undefined && quantize === undefined) {
      throw new UsageError(`--quantize must be per-channel or per-tensor, got "${values.quantize}"`);
    }
    const outDir = path.resolve(values.out);
    if (!values.force && existsSync(path.join(outDir, 'onnx', 'model.onnx'))) {
      throw new UsageError(`${outDir} already holds a model (onnx/model.onnx); use --force to overwrite it`);
    }

    const started = performance.now();
    const result: VitModelDirResult = values.synthetic
      ? await buildSyntheticVitModelDir({ preset, seed, outDir, ...(quantize ? { quantize } : {}) })
      : await convertHfVitModelDir({ from: path.resolve(values.from!), outDir, ...(quantize ? { quantize } : {}) });
    const seconds = (performance.now() - started) / 1000;
    const c = result.config;
    console.log(`wrote ${result.outDir}`);
    console.log(
      `  ViT hidden ${c.hiddenSize}, ${c.numHiddenLayers} layers, ${c.numAttentionHeads} heads, MLP ${c.intermediateSize}, patch ${c.patchSize}, image ${c.imageSize}`,
    );
    console.log(`  labels: ${c.labels.join(', ')}`);
    console.log(
      `  ${result.parameterCount.toLocaleString('en-US')} parameters, onnx/model.onnx ${(result.modelBytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(1)} s`,
    );
    if (result.quantized)
      console.log(
        `  onnx/model_quantized.onnx (dynamic int8, ${values.quantize}) ${(result.quantized.modelBytes / 1e6).toFixed(1)} MB`,
      );
    if (result.unusedParameters.length > 0)
      console.log(
        `  ignored ${result.unusedParameters.length} checkpoint tensor(s) a ViTForImageClassification does not use: ${result.unusedParameters.join(', ')}`,
      );
    return EXIT_CODES.ok;
  },
};

export default buildVit;
