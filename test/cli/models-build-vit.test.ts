// `fer-stream models build-vit` through the real CLI entry point.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIT_PRESETS, syntheticVitWeights, vitConfigToHf, writeSafetensors } from '../../src/models/vit/index.ts';
import { runCli } from '../helpers/cli-processes.ts';

const cli = (args: string[]) => runCli(args, { ...process.env, LOG_LEVEL: 'warn' });

describe('fer-stream models build-vit', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-build-vit-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('--synthetic --preset base writes the full ViT-B/16 (85.8 M parameters, ≈343 MB) that onnxruntime loads', async () => {
    const out = path.join(tmp, 'base');
    const { code, stdout } = await cli(['models', 'build-vit', '--synthetic', '--preset', 'base', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toContain('85,804,039 parameters');
    const bytes = (await stat(path.join(out, 'onnx', 'model.onnx'))).size;
    expect(bytes).toBeGreaterThan(85_804_039 * 4);
    expect(bytes).toBeLessThan(85_804_039 * 4 + 200_000);
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      patch_size: 16,
      image_size: 224,
    });
    const session = await ort.InferenceSession.create(path.join(out, 'onnx', 'model.onnx'));
    expect(session.inputNames).toEqual(['pixel_values']);
    expect(session.outputNames).toEqual(['logits']);
    await session.release();
    await rm(out, { recursive: true });
  });

  it('--from converts a Hugging Face directory, keeping its preprocessor config and labels', async () => {
    const hf = path.join(tmp, 'hf');
    const config = { ...VIT_PRESETS.tiny, labels: ['calm', 'upset'] };
    const weights = syntheticVitWeights(config, { seed: 2 });
    await writeSafetensors(
      path.join(hf, 'model.safetensors'),
      [...weights].map(([name, t]) => ({ name, dims: t.dims, data: t.data, dtype: 'BF16' as const })),
    );
    await writeFile(path.join(hf, 'config.json'), JSON.stringify(vitConfigToHf(config)));
    const preprocessor = {
      image_processor_type: 'ViTImageProcessor',
      do_resize: true,
      size: { height: 224, width: 224 },
      resample: 3,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.485, 0.456, 0.406],
      image_std: [0.229, 0.224, 0.225],
    };
    await writeFile(path.join(hf, 'preprocessor_config.json'), JSON.stringify(preprocessor));
    const out = path.join(tmp, 'converted');
    const { code, stdout } = await cli(['models', 'build-vit', '--from', hf, '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toContain('labels: calm, upset');
    expect(JSON.parse(await readFile(path.join(out, 'preprocessor_config.json'), 'utf8'))).toEqual(preprocessor);
    expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')).id2label).toEqual({
      0: 'calm',
      1: 'upset',
    });

    // An existing model is not overwritten without --force.
    const again = await cli(['models', 'build-vit', '--from', hf, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a model .* use --force/);
    expect((await cli(['models', 'build-vit', '--from', hf, '--out', out, '--force'])).code).toBe(0);
  });

  it('answers bad usage with exit code 2 and a specific message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['models', 'build-vit', '--synthetic'], /--out DIR is required/],
      [['models', 'build-vit', '--out', path.join(tmp, 'x')], /exactly one of --synthetic and --from/],
      [
        ['models', 'build-vit', '--synthetic', '--preset', 'huge', '--out', path.join(tmp, 'x')],
        /--preset must be tiny or base, got "huge"/,
      ],
      [
        ['models', 'build-vit', '--synthetic', '--seed=-3', '--out', path.join(tmp, 'x')],
        /--seed must be a non-negative integer/,
      ],
      [['models', 'nonsense'], /unknown models subcommand "nonsense"/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(message);
    }
    const missing = await cli([
      'models',
      'build-vit',
      '--from',
      path.join(tmp, 'nowhere'),
      '--out',
      path.join(tmp, 'y'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/config\.json is missing/);
  });
});
