// Where face-api's converted model directories live under the models directory. The runtime
// loads them from there; src/models/faceapi/convert.ts makes them.

import path from 'node:path';

export const FACEAPI_DETECTOR_DIR = 'faceapi-tiny-face-detector';
export const FACEAPI_EXPRESSION_DIR = 'faceapi-face-expression';
/** The recognition net (identity descriptors for persons). */
export const FACEAPI_RECOGNITION_DIR = 'faceapi-face-recognition';

export interface FaceApiModelPaths {
  readonly detectorDir: string;
  readonly expressionDir: string;
  readonly recognitionDir: string;
}

export function faceApiModelPaths(modelsDir: string): FaceApiModelPaths {
  return {
    detectorDir: path.join(modelsDir, FACEAPI_DETECTOR_DIR),
    expressionDir: path.join(modelsDir, FACEAPI_EXPRESSION_DIR),
    recognitionDir: path.join(modelsDir, FACEAPI_RECOGNITION_DIR),
  };
}
