import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_LABELS,
  VIT_PRESETS,
  buildSyntheticVitModelDir,
  buildVitGraph,
  convertHfVitModelDir,
  syntheticVitWeights,
  vitConfigToHf,
  vitParameterShapes,
  writeSafetensors,
  type VitConfig,
  type VitWeights,
} from '../../../src/models/vit/index.ts';
import { fillNormal } from '../../../src/models/vit/synthetic.ts';
import { referenceVitLogits } from './reference-forward.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'fer-vit-builder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function runLogits(
  model: Uint8Array | string,
  pixels: Float32Array,
  config: VitConfig,
  batch: number,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model as Uint8Array, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  try {
    expect(session.inputNames).toEqual(['pixel_values']);
    expect(session.outputNames).toEqual(['logits']);
    const { logits } = await session.run({
      pixel_values: new ort.Tensor('float32', pixels, [batch, config.numChannels, config.imageSize, config.imageSize]),
    });
    expect(logits!.dims).toEqual([batch, config.labels.length]);
    return logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function randomPixels(config: VitConfig, batch: number, seed: number): Float32Array {
  const pixels = new Float32Array(batch * config.numChannels * config.imageSize ** 2);
  fillNormal(pixels, 0.6, seed);
  return pixels;
}

/** Compares ONNX logits of a batch against the float64 reference, image by image; returns the largest difference. */
function maxDifferenceFromReference(
  config: VitConfig,
  weights: VitWeights,
  pixels: Float32Array,
  logits: Float32Array,
  batch: number,
): number {
  const perImage = config.numChannels * config.imageSize ** 2;
  const L = config.labels.length;
  let worst = 0;
  for (let n = 0; n < batch; n++) {
    const ref = referenceVitLogits(config, weights, pixels.subarray(n * perImage, (n + 1) * perImage));
    for (let j = 0; j < L; j++) worst = Math.max(worst, Math.abs(ref[j]! - logits[n * L + j]!));
  }
  return worst;
}

// Random biases and norms, and weights larger than HF's 0.02, so that every parameter matters and
// the logits are of order 1 (a 1e-4 tolerance on near-zero logits would prove little).
const testInit = { std: 0.15, biasStd: 0.1, normStd: 0.2 };

describe('ViT ONNX graph', () => {
  it('matches an independent float64 forward pass on a small configuration with odd head size, within 1e-4', async () => {
    const config: VitConfig = {
      hiddenSize: 24,
      numHiddenLayers: 3,
      numAttentionHeads: 4,
      intermediateSize: 40,
      patchSize: 8,
      imageSize: 32,
      numChannels: 3,
      layerNormEps: 1e-6,
      hiddenAct: 'gelu',
      qkvBias: true,
      labels: ['a', 'b', 'c', 'd', 'e'],
    };
    const weights = syntheticVitWeights(config, { seed: 11, ...testInit });
    const batch = 3;
    const pixels = randomPixels(config, batch, 5);
    const logits = await runLogits(buildVitGraph(config, weights).toBytes(), pixels, config, batch);
    const spread = Math.max(...logits) - Math.min(...logits);
    expect(spread).toBeGreaterThan(0.5);
    expect(maxDifferenceFromReference(config, weights, pixels, logits, batch)).toBeLessThan(1e-4);
  });

  it('matches the reference on the tiny preset (224×224, patch 16, 197 tokens), without q/k/v biases too', async () => {
    for (const qkvBias of [true, false]) {
      const config: VitConfig = { ...VIT_PRESETS.tiny, qkvBias };
      const weights = syntheticVitWeights(config, { seed: 3, ...testInit, std: 0.05 });
      const batch = qkvBias ? 2 : 1;
      const pixels = randomPixels(config, batch, 9);
      const logits = await runLogits(buildVitGraph(config, weights).toBytes(), pixels, config, batch);
      expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(0.2);
      expect(maxDifferenceFromReference(config, weights, pixels, logits, batch)).toBeLessThan(1e-4);
    }
  });

  it('gives each image of a batch the logits it gets alone (dynamic batch)', async () => {
    const config = VIT_PRESETS.tiny;
    const model = buildVitGraph(config, syntheticVitWeights(config, { seed: 1, ...testInit, std: 0.05 })).toBytes();
    const pixels = randomPixels(config, 4, 2);
    const batched = await runLogits(model, pixels, config, 4);
    const perImage = 3 * 224 * 224;
    const third = await runLogits(model, pixels.slice(2 * perImage, 3 * perImage), config, 1);
    for (let j = 0; j < 7; j++) expect(third[j]).toBeCloseTo(batched[2 * 7 + j]!, 5);
  });
});

describe('ViT model directories', () => {
  it('builds a synthetic tiny model directory in the Hugging Face layout', async () => {
    const outDir = path.join(tmp, 'tiny');
    const result = await buildSyntheticVitModelDir({ preset: 'tiny', seed: 4, outDir });
    const config = JSON.parse(readFileSync(path.join(outDir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['ViTForImageClassification'],
      model_type: 'vit',
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      intermediate_size: 256,
      patch_size: 16,
      image_size: 224,
      num_channels: 3,
      hidden_act: 'gelu',
    });
    expect(config.id2label).toEqual(Object.fromEntries(DEFAULT_LABELS.map((l, i) => [String(i), l])));
    expect(config.label2id).toEqual({ angry: 0, disgust: 1, fear: 2, happy: 3, neutral: 4, sad: 5, surprise: 6 });
    expect(JSON.parse(readFileSync(path.join(outDir, 'preprocessor_config.json'), 'utf8'))).toEqual({
      image_processor_type: 'ViTImageProcessor',
      do_resize: true,
      size: { height: 224, width: 224 },
      resample: 2,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    });
    expect(statSync(result.modelFile).size).toBe(result.modelBytes);
    // float32 weights dominate the file: 4 bytes per parameter plus a little graph structure.
    expect(result.modelBytes).toBeGreaterThan(result.parameterCount * 4);
    expect(result.modelBytes).toBeLessThan(result.parameterCount * 4 + 64 * 1024);
  });

  it('converts a Hugging Face safetensors + config.json directory to the same logits as the direct synthetic build', async () => {
    const config = VIT_PRESETS.tiny;
    const seedOptions = { seed: 21, ...testInit, std: 0.05 };
    const direct = await buildSyntheticVitModelDir({
      preset: 'tiny',
      outDir: path.join(tmp, 'direct'),
      ...seedOptions,
    });

    // A Hugging Face checkpoint directory: parameters by their HF names, plus an unused pooler as
    // some checkpoints carry; BF16/F16 for two tensors would change values, so all are F32 here.
    const hfDir = path.join(tmp, 'hf');
    const weights = syntheticVitWeights(config, seedOptions);
    const pooler = { name: 'vit.pooler.dense.bias', dims: [64], data: new Float32Array(64) };
    await writeSafetensors(path.join(hfDir, 'model.safetensors'), [
      pooler,
      ...[...weights].reverse().map(([name, t]) => ({ name, dims: t.dims, data: t.data })),
    ]);
    await writeFile(path.join(hfDir, 'config.json'), JSON.stringify(vitConfigToHf(config)));
    const converted = await convertHfVitModelDir({ from: hfDir, outDir: path.join(tmp, 'converted') });
    expect(converted.unusedParameters).toEqual(['vit.pooler.dense.bias']);
    expect(converted.config).toEqual(direct.config);

    const pixels = randomPixels(config, 2, 77);
    const a = await runLogits(readFileSync(direct.modelFile), pixels, config, 2);
    const b = await runLogits(readFileSync(converted.modelFile), pixels, config, 2);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(0.2);
  });

  it('rejects a checkpoint whose parameters do not fit its config with a specific message', async () => {
    const config = VIT_PRESETS.tiny;
    const dir = path.join(tmp, 'bad');
    const weights = syntheticVitWeights(config, { seed: 1 });
    const writeWeights = () =>
      writeSafetensors(
        path.join(dir, 'model.safetensors'),
        [...weights].map(([name, t]) => ({ name, dims: t.dims, data: t.data })),
      );
    const convert = () => convertHfVitModelDir({ from: dir, outDir: path.join(tmp, 'bad-out') });
    await writeWeights();
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...vitConfigToHf(config), hidden_size: 96 }));
    await expect(convert()).rejects.toThrow(
      /vit\.embeddings\.cls_token has shape \[1, 1, 64\], the configuration needs \[1, 1, 96\]/,
    );
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ ...vitConfigToHf(config), hidden_act: 'gelu_new' }),
    );
    await expect(convert()).rejects.toThrow(/hidden_act "gelu_new" is not supported/);
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ ...vitConfigToHf(config), id2label: { 0: 'a', 2: 'b' } }),
    );
    await expect(convert()).rejects.toThrow(/id2label key "2" is not an id in 0\.\.1/);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify(vitConfigToHf(config)));
    weights.delete('vit.encoder.layer.1.output.dense.bias');
    await writeWeights();
    await expect(convert()).rejects.toThrow(
      /1 ViT parameter\(s\) missing: vit\.encoder\.layer\.1\.output\.dense\.bias/,
    );
    await expect(
      convertHfVitModelDir({ from: path.join(tmp, 'nowhere'), outDir: path.join(tmp, 'bad-out') }),
    ).rejects.toThrow(/config\.json is missing/);
  });

  it('has the ViT-B/16 parameter count (≈86 M) in the base preset', () => {
    let n = 0;
    for (const dims of vitParameterShapes(VIT_PRESETS.base).values()) n += dims.reduce((a, b) => a * b, 1);
    // 85,798,656 for the encoder and embeddings (google/vit-base-patch16-224 without its head) + 768·7 + 7.
    expect(n).toBe(85_798_656 + 768 * 7 + 7);
  });
});
