// How closely a model variant follows fp32 on real faces: the faces BlazeFace (from npm, always
// available) finds in the given photos, cropped as the pipeline crops them, each also mirrored;
// both variants classify every crop. Top-1 agreement and the largest probability difference.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { InferenceConfig } from '../config/index.ts';
import type { RgbImage } from '../core/types.ts';
import { createImageClassifier } from '../inference/classifier.ts';
import { ensureDetectorDir } from '../inference/detectors/families/index.ts';
import { cropRgb, faceCropBox } from '../inference/detectors/crop.ts';
import { loadDetector } from '../inference/detectors/detector.ts';
import { decodeToRgb } from '../inference/preprocess/decode.ts';

export interface Agreement {
  /** Share of crops whose top label is the same in both variants. */
  readonly top1: number;
  /** Largest |p_variant − p_fp32| over every crop and label. */
  readonly maxProbabilityDifference: number;
  readonly crops: number;
  /** The photos' file names. */
  readonly images: readonly string[];
}

function mirrored(image: RgbImage): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const from = (y * image.width + (image.width - 1 - x)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * image.width + x) * 3);
    }
  }
  return { data, width: image.width, height: image.height };
}

/** Face crops (and their mirror images) of `photos`, found by BlazeFace full range at its measured threshold. */
export async function faceCrops(
  photos: readonly string[],
  options: { modelsDir: string; inference: InferenceConfig; cropMargin: number },
): Promise<RgbImage[]> {
  const detector = await loadDetector(await ensureDetectorDir(options.modelsDir, 'blazeface-back'), {
    inference: { ...options.inference, executionProviders: ['cpu'] },
    settings: { scoreThreshold: 0.6, minFaceSize: 24, maxFaces: 20 },
  });
  try {
    const crops: RgbImage[] = [];
    for (const photo of photos) {
      const image = await decodeToRgb(await readFile(photo));
      for (const face of await detector.detect(image)) {
        const crop = cropRgb(image, faceCropBox(face.box, image.width, image.height, options.cropMargin));
        crops.push(crop, mirrored(crop));
      }
    }
    return crops;
  } finally {
    await detector.close();
  }
}

/** Agreement of `variant` with fp32 (`model`) of the model directory `dir` on `crops`. */
export async function measureAgreement(
  dir: string,
  variant: string,
  crops: readonly RgbImage[],
  photos: readonly string[],
  inference: InferenceConfig,
): Promise<Agreement> {
  const config = { ...inference, executionProviders: ['cpu' as const] };
  const [reference, candidate] = await Promise.all([
    createImageClassifier(dir, { config: { ...config, modelVariant: 'model' } }),
    createImageClassifier(dir, { config: { ...config, modelVariant: variant } }),
  ]);
  try {
    const [a, b] = await Promise.all([
      Promise.all(crops.map((c) => reference.classify(c))),
      Promise.all(crops.map((c) => candidate.classify(c))),
    ]);
    let same = 0;
    let maxDiff = 0;
    a.forEach((r, i) => {
      if (r.label === b[i]!.label) same += 1;
      r.probabilities.forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - b[i]!.probabilities[j]!))));
    });
    return {
      top1: crops.length ? same / crops.length : 0,
      maxProbabilityDifference: maxDiff,
      crops: crops.length,
      images: photos.map((p) => path.basename(p)),
    };
  } finally {
    await Promise.all([reference.close(), candidate.close()]);
  }
}
