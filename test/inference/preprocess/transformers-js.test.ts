// Second reference: the same model directory run through @huggingface/transformers
// (transformers.js: its own ViTImageProcessor port and onnxruntime session) against our path
// (preprocessInto + OnnxImageClassifier). The model is the synthetic ViT-B/16 ("base") that
// `fer-stream models build-vit --synthetic --preset base` writes: what transformers.js would load.
//
// The comparison is split in two so that any difference has a cause:
// 1. runtime: OUR tensor fed to transformers.js's model gives our probabilities (same ONNX
//    graph, same onnxruntime) — asserted equal;
// 2. preprocessing: transformers.js resizes with sharp's affine bilinear interpolator, which is
//    not antialiased when downscaling (PIL's is) and samples a grid without PIL's half-pixel
//    centring (visible when upscaling), so its tensor differs from PIL's — and ours — whenever a
//    resize happens; the pipeline's probabilities differ by exactly that.

import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AutoProcessor, env, pipeline, RawImage, Tensor as HfTensor } from '@huggingface/transformers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { createImageClassifier, softmax, type OnnxImageClassifier } from '../../../src/inference/classifier.ts';
import { preprocessedLength, preprocessInto } from '../../../src/inference/preprocess.ts';
import { buildSyntheticVitModelDir } from '../../../src/models/vit/index.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { difference, generateImages, SEED_CONFIG } from './reference.ts';

// FER_TJS_PRESET=tiny makes this a few seconds instead of about a minute.
const PRESET = process.env.FER_TJS_PRESET === 'tiny' ? 'tiny' : 'base';
const MODEL_NAME = `vit-${PRESET}`;

interface Row {
  readonly image: string;
  readonly tensorMad: number;
  readonly ourTop1: string;
  readonly tjsTop1: string;
  /** Largest |p_ours − p_transformers.js| over the labels, end to end. */
  readonly probDiff: number;
  /** The same, with our tensor fed to transformers.js's model: the runtime alone. */
  readonly runtimeDiff: number;
}

let tmp: string;
let classifier: OnnxImageClassifier | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-tjs-'));
  await buildSyntheticVitModelDir({ outDir: path.join(tmp, MODEL_NAME), preset: PRESET, seed: 11 });
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${tmp}/`;
});

afterAll(async () => {
  await classifier?.close();
  await rm(tmp, { recursive: true, force: true });
});

describeWithShared('second reference: transformers.js pipeline vs our path on the same model directory', () => {
  it('agrees; every difference comes from transformers.js resizing without antialiasing', async () => {
    const photoDir = sharedPath('fixtures', 'faces');
    const generatedDir = path.join(tmp, 'generated');
    const generated = generateImages(generatedDir).filter((f) =>
      /gradient|noise_333|exact_224|upscale|alpha_rgba|grey_L\.png|exif_orientation_6\.jpg/.test(f),
    );
    const files = [
      ...readdirSync(photoDir)
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .sort()
        .map((f) => path.join(photoDir, f)),
      ...generated.map((f) => path.join(generatedDir, f)),
    ];

    const config = loadConfig(
      {},
      { inference: { executionProviders: ['cpu'], sessionThreads: 1, maxBatchSize: 8, maxDelayMs: 5 } },
    ).inference;
    classifier = await createImageClassifier(path.join(tmp, MODEL_NAME), { config });
    const labels = classifier.labels;
    const options = { local_files_only: true, dtype: 'fp32' } as const;
    const classify = await pipeline('image-classification', MODEL_NAME, options);
    const processor = await AutoProcessor.from_pretrained(MODEL_NAME, options);
    const n = preprocessedLength(SEED_CONFIG);

    // Everything in batches: our classifier's batcher groups the concurrent requests, the
    // pipeline and the model take arrays / a batch tensor.
    const encoded = files.map((file) => new Uint8Array(readFileSync(file)));
    const ours = await Promise.all(encoded.map((bytes) => classifier!.classify(bytes)));
    const tjsResults = (await classify(files, { top_k: labels.length })) as Array<
      Array<{ label: string; score: number }>
    >;
    const ourTensors = new Float32Array(n * files.length);
    await Promise.all(encoded.map((bytes, i) => preprocessInto(bytes, SEED_CONFIG, ourTensors, i * n)));
    const { logits } = (await classify.model({
      pixel_values: new HfTensor('float32', ourTensors, [files.length, 3, 224, 224]),
    })) as { logits: HfTensor };
    const classes = labels.length;

    const rows: Row[] = [];
    for (const [i, file] of files.entries()) {
      const tjsProbs = labels.map((label) => tjsResults[i]!.find((r) => r.label === label)!.score);
      const runtimeProbs = softmax((logits.data as Float32Array).subarray(i * classes, (i + 1) * classes));
      const tjsTensor = (await processor(await RawImage.read(file))).pixel_values as HfTensor;
      const maxDiff = (p: readonly number[]) => Math.max(...p.map((v, k) => Math.abs(v - ours[i]!.probabilities[k]!)));
      rows.push({
        image: path.basename(file),
        tensorMad: difference(tjsTensor.data as Float32Array, ourTensors.subarray(i * n, (i + 1) * n)).mad,
        ourTop1: ours[i]!.label,
        tjsTop1: tjsResults[i]![0]!.label,
        probDiff: maxDiff(tjsProbs),
        runtimeDiff: maxDiff(runtimeProbs),
      });
    }

    const agree = rows.filter((r) => r.ourTop1 === r.tjsTop1).length;
    const worst = rows.reduce((a, b) => (b.probDiff > a.probDiff ? b : a));
    console.log(
      [
        `\ntransformers.js vs fer-stream, synthetic ViT ${PRESET} (${MODEL_NAME}):`,
        `  ${'image'.padEnd(30)} ${'tensor MAD'.padStart(10)}  ${'ours'.padEnd(8)} ${'tjs'.padEnd(8)} ${'max |Δp|'.padStart(9)}  ${'runtime |Δp|'.padStart(12)}`,
        ...rows.map(
          (r) =>
            `  ${r.image.padEnd(30)} ${r.tensorMad.toFixed(5).padStart(10)}  ${r.ourTop1.padEnd(8)} ${r.tjsTop1.padEnd(8)} ${r.probDiff.toFixed(5).padStart(9)}  ${r.runtimeDiff.toExponential(1).padStart(12)}`,
        ),
        `  top-1 agreement ${agree}/${rows.length}; largest probability difference ${worst.probDiff.toFixed(5)} (${worst.image})`,
      ].join('\n'),
    );

    // 1. Runtime: the same tensor gives the same probabilities in both stacks.
    for (const r of rows) expect(r.runtimeDiff, r.image).toBeLessThan(1e-4);
    // 2. Where transformers.js's tensor equals ours (no resize: a 224×224 input), the pipelines
    //    agree exactly; all remaining difference is preprocessing.
    for (const r of rows.filter((row) => row.tensorMad < 1e-6)) {
      expect(r.probDiff, r.image).toBeLessThan(1e-4);
      expect(r.tjsTop1, r.image).toBe(r.ourTop1);
    }
    expect(rows.some((r) => r.tensorMad < 1e-6)).toBe(true);
  }, 600_000);
});
