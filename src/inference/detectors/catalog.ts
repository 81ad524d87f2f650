// The detector models fer-stream knows how to run: the publishers' files and the pre/post-processing
// each was trained with (../shared/README.md; UltraFace and YuNet reference demos).

import type { DetectorSpec } from './spec.ts';

export interface DetectorCatalogEntry {
  /** Model directory name under the models directory. */
  readonly name: string;
  /** Family as used by `models fetch` (one family installs all its variants). */
  readonly family: 'ultraface' | 'yunet';
  /** Published file name, relative to the family's base URL. */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly spec: DetectorSpec;
}

const ULTRAFACE_FORMAT = {
  type: 'ultraface',
  model: 'model.onnx',
  inputName: 'input',
  layout: 'nchw',
  dynamicSize: false,
  sizeMultiple: 1,
  maxBatch: 1,
  resize: 'stretch',
  channelOrder: 'rgb',
  mean: [127, 127, 127],
  std: [128, 128, 128],
  scoreThreshold: 0.7,
  nmsIou: 0.3,
  source: 'https://github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB',
  license: 'MIT',
} as const;

const YUNET_FORMAT = {
  type: 'yunet',
  model: 'model.onnx',
  inputName: 'input',
  layout: 'nchw',
  sizeMultiple: 32,
  resize: 'letterbox',
  channelOrder: 'bgr',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  scoreThreshold: 0.9,
  nmsIou: 0.3,
  source: 'https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet',
  license: 'MIT (opencv_zoo), Apache-2.0 (libfacedetection.train)',
} as const;

export const DETECTOR_CATALOG: readonly DetectorCatalogEntry[] = [
  {
    name: 'ultraface-rfb-320',
    family: 'ultraface',
    file: 'version-RFB-320.onnx',
    bytes: 1_270_727,
    sha256: '34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017',
    spec: { ...ULTRAFACE_FORMAT, mean: [...ULTRAFACE_FORMAT.mean], std: [...ULTRAFACE_FORMAT.std], inputWidth: 320, inputHeight: 240 },
  },
  {
    name: 'ultraface-rfb-640',
    family: 'ultraface',
    file: 'version-RFB-640.onnx',
    bytes: 1_588_012,
    sha256: '8f4c659275977e7a3bfbfa339a9c769ad793df50f9c0baa8c14b11baa1646430',
    spec: { ...ULTRAFACE_FORMAT, mean: [...ULTRAFACE_FORMAT.mean], std: [...ULTRAFACE_FORMAT.std], inputWidth: 640, inputHeight: 480 },
  },
  {
    name: 'yunet-2023mar',
    family: 'yunet',
    file: 'face_detection_yunet_2023mar.onnx',
    bytes: 232_589,
    sha256: '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4',
    spec: { ...YUNET_FORMAT, mean: [...YUNET_FORMAT.mean], std: [...YUNET_FORMAT.std], inputWidth: 640, inputHeight: 640, dynamicSize: false, maxBatch: 1 },
  },
  {
    name: 'yunet-s-dynamic',
    family: 'yunet',
    file: 'yunet_s_dynamic.onnx',
    bytes: 237_823,
    sha256: 'daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3',
    // Batchable; 320x320 by default keeps the detector cheap next to the ViT (see BENCHMARKS.md).
    spec: { ...YUNET_FORMAT, mean: [...YUNET_FORMAT.mean], std: [...YUNET_FORMAT.std], inputWidth: 320, inputHeight: 320, dynamicSize: true, maxBatch: 64 },
  },
];

export function catalogEntry(name: string): DetectorCatalogEntry | undefined {
  return DETECTOR_CATALOG.find((e) => e.name === name);
}
