import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { openModelDir, readModelDir } from '../../src/inference/model-dir.ts';
import { SEVEN_LABELS, writeTinyClassifierDir, type TinyClassifierOptions } from './fixtures/tiny-classifier.ts';

const config = (modelVariant = 'model') =>
  loadConfig({}, { inference: { executionProviders: ['cpu'], intraOpThreads: 1, modelVariant } }).inference;

let tmp: string;
let counter = 0;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-model-dir-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const modelDir = (options: TinyClassifierOptions = {}) =>
  writeTinyClassifierDir(path.join(tmp, `m${counter++}`), options);

describe('readModelDir', () => {
  it('reads labels from id2label in id order, the preprocessing and the model file', async () => {
    const dir = await modelDir({ config: { id2label: { 1: 'b', 0: 'a', 2: 'c' }, label2id: { c: 2, a: 0, b: 1 } } });
    const model = await readModelDir(dir);
    expect(model.labels).toEqual(['a', 'b', 'c']);
    expect(model.preprocessor.size).toEqual({ height: 16, width: 16 });
    expect(model.preprocessor.image_mean).toEqual([0.5, 0.5, 0.5]);
    expect(model.modelPath).toBe(path.join(dir, 'onnx', 'model.onnx'));
    expect(model.name).toBe(path.basename(dir));
    expect(model.config.architectures).toEqual(['TinyMeanClassifier']);
  });

  it("fills missing preprocessing fields with ViTImageProcessor's defaults", async () => {
    const dir = await modelDir({
      size: 224,
      preprocessor: {
        do_resize: undefined,
        resample: undefined,
        rescale_factor: undefined,
        image_mean: 0.25,
        image_std: undefined,
      },
    });
    const { preprocessor } = await readModelDir(dir);
    expect(preprocessor).toMatchObject({
      do_resize: true,
      resample: 2,
      rescale_factor: 1 / 255,
      image_mean: [0.25, 0.25, 0.25],
      image_std: [0.5, 0.5, 0.5],
    });
  });

  it('chooses the configured variant and lists the variants present when it is missing', async () => {
    const dir = await modelDir({ variant: 'model_quantized' });
    expect((await readModelDir(dir, { variant: 'model_quantized' })).modelPath).toMatch(/onnx\/model_quantized\.onnx$/);
    await expect(readModelDir(dir)).rejects.toThrow(
      /onnx\/model\.onnx is missing \(variants present: model_quantized\)/,
    );
    await expect(readModelDir(dir, { variant: '../x' })).rejects.toThrow(/not a plain file name/);
  });

  it('names the missing directory or file', async () => {
    await expect(readModelDir(path.join(tmp, 'nope'))).rejects.toThrow(/model directory not found: .*nope/);
    const dir = await modelDir();
    await rm(path.join(dir, 'preprocessor_config.json'));
    await expect(readModelDir(dir)).rejects.toThrow(/preprocessor_config\.json is missing/);
    await rm(path.join(dir, 'config.json'));
    await expect(readModelDir(dir)).rejects.toThrow(/config\.json is missing/);
  });

  it('reports malformed JSON with the file name', async () => {
    const dir = await modelDir();
    await writeFile(path.join(dir, 'config.json'), '{"id2label": {"0": "a",}');
    await expect(readModelDir(dir)).rejects.toThrow(/config\.json is not valid JSON/);
  });

  it.each([
    [{ id2label: undefined }, /id2label is missing/],
    [{ id2label: ['a', 'b'] }, /id2label must be an object/],
    [{ id2label: { 0: 'a', 2: 'b' }, label2id: { a: 0, b: 2 } }, /ids must be 0\.\.1 without gaps, found id 2/],
    [{ id2label: { 0: 'a', x: 'b' } }, /key "x" is not a non-negative integer/],
    [{ id2label: { 0: 'a', 1: 'a' }, label2id: { a: 0 } }, /label "a" appears twice/],
    [{ id2label: { 0: 'a', 1: '' } }, /id2label\["1"\] must be a non-empty string/],
    [{ label2id: undefined }, /label2id is missing/],
    [{ id2label: { 0: 'a', 1: 'b' }, label2id: { a: 1, b: 0 } }, /label2id\["a"\] is 1 but id2label gives it id 0/],
    [{ id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0 } }, /label2id has no entry for "b"/],
    [{ id2label: { 0: 'a' }, label2id: { a: 0, z: 1 } }, /label2id has labels not in id2label: z/],
    [{ num_labels: 5 }, /num_labels is 5 but id2label has 7 labels/],
    [{ num_channels: 1 }, /num_channels must be 3/],
    [{ image_size: 32 }, /image_size 32 does not match preprocessor_config\.json size 16×16/],
  ])('rejects an invalid config.json (%#)', async (overrides, message) => {
    const dir = await modelDir({ config: overrides as Record<string, unknown> });
    await expect(readModelDir(dir)).rejects.toThrow(message);
  });

  it.each([
    [{ image_std: [0.5, 0, 0.5] }, /image_std must not contain 0/],
    [{ size: { shortest_edge: 224 } }, /size\.shortest_edge is not supported/],
    [{ size: { height: 16, width: -1 } }, /size/],
    [{ do_rescale: 'yes' }, /do_rescale/],
    [{ image_mean: [0.5, 0.5] }, /image_mean/],
    [{ do_resize: false }, /do_resize is false/],
  ])('rejects an invalid preprocessor_config.json (%#)', async (overrides, message) => {
    const dir = await modelDir({ preprocessor: overrides });
    await expect(readModelDir(dir)).rejects.toThrow(message);
  });
});

describe('openModelDir', () => {
  it('starts the sessions and checks the graph against the directory', async () => {
    const { model, host } = await openModelDir(await modelDir(), config());
    try {
      expect(model.labels).toEqual(SEVEN_LABELS);
      expect(host.executionProvider).toBe('cpu');
      expect(host.inputNames).toEqual(['pixel_values']);
    } finally {
      await host.close();
    }
  });

  it('opens the variant named by the configuration', async () => {
    const { model, host } = await openModelDir(
      await modelDir({ variant: 'model_quantized' }),
      config('model_quantized'),
    );
    await host.close();
    expect(model.variant).toBe('model_quantized');
  });

  it.each([
    [{ inputName: 'images' }, /expected an input named "pixel_values", the model has "images"/],
    [
      { inputDims: ['batch', 3, 32, 32] },
      /has shape \[batch, 3, 32, 32\], but config\.json\/preprocessor_config\.json declare \[batch, 3, 16, 16\]/,
    ],
    [{ inputDims: [1, 3, 16, 16] }, /fixed batch dimension 1/],
    [{ inputDims: ['batch', 3, 'height', 'width'] }, null],
    [{ outputWidth: 5 }, /the model outputs 5 classes but id2label has 7 labels/],
  ])(
    'checks the graph against the directory: mismatches are rejected, symbolic sizes accepted (%#)',
    async (options, message) => {
      const opening = openModelDir(await modelDir(options), config());
      if (message === null) {
        // Symbolic spatial dimensions are accepted: preprocessing decides the size.
        await (await opening).host.close();
        return;
      }
      await expect(opening).rejects.toThrow(message);
    },
  );

  it('rejects an onnx file that is not a model', async () => {
    const dir = await modelDir();
    await writeFile(path.join(dir, 'onnx', 'model.onnx'), 'not onnx');
    await expect(openModelDir(dir, config())).rejects.toThrow(/cannot load ONNX model .*model\.onnx/);
  });
});
