// YuNet (OpenCV's face detector): letterboxed BGR input, no normalisation. yunet-2023mar is
// opencv_zoo's fixed 640×640 export; yunet_s_dynamic (libfacedetection.train) takes any size
// that is a multiple of 32 and batches.

import type { DetectorFamily, DetectorModel } from '../../family.ts';
import type { DetectorSpec } from '../../spec.ts';
import { decodeYuNet } from './decode.ts';

function spec(size: number, dynamicSize: boolean, maxBatch: number): DetectorSpec {
  return {
    type: 'yunet',
    model: 'model.onnx',
    inputName: 'input',
    layout: 'nchw',
    inputWidth: size,
    inputHeight: size,
    dynamicSize,
    sizeMultiple: 32,
    maxBatch,
    resize: 'letterbox',
    channelOrder: 'bgr',
    mean: [0, 0, 0],
    std: [1, 1, 1],
    scoreThreshold: 0.9,
    nmsIou: 0.3,
    source: 'https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet',
    license: 'MIT (opencv_zoo), Apache-2.0 (libfacedetection.train)',
  };
}

const models: readonly DetectorModel[] = [
  {
    name: 'yunet-2023mar',
    spec: spec(640, false, 1),
    measuredThreshold: 0.8,
    published: {
      file: 'face_detection_yunet_2023mar.onnx',
      bytes: 232_589,
      sha256: '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4',
    },
  },
  {
    name: 'yunet-s-dynamic',
    // Batchable; 320×320 by default keeps the detector cheap next to the ViT (see BENCHMARKS.md).
    spec: spec(320, true, 64),
    // At each frame's own size (its default input) and at a fixed 640×640; at 320×320 0.7.
    measuredThreshold: 0.8,
    thresholdAtFixedInput: (input) => (input === '640x640' ? 0.8 : 0.7),
    // The vit profile's detector at frame size: doubtful faces confirmed by BlazeFace full range.
    secondLook: { confirmer: 'blazeface-back', confirmAt: 0.65, trustAbove: 0.85, threshold: 0.5 },
    published: {
      file: 'yunet_s_dynamic.onnx',
      bytes: 237_823,
      sha256: 'daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3',
      // Published by libfacedetection.train, not opencv_zoo.
      url: 'https://github.com/ShiqiYu/libfacedetection.train/raw/master/onnx/yunet_s_dynamic.onnx',
    },
  },
];

export const yuNet: DetectorFamily = {
  name: 'yunet',
  summary: 'face_detection_yunet_2023mar (opencv_zoo) and yunet_s_dynamic (libfacedetection.train)',
  decode: decodeYuNet,
  models,
  // opencv_zoo keeps its ONNX files in Git LFS: github.com/…/raw/… redirects to the LFS object.
  publisherUrl: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet',
};
