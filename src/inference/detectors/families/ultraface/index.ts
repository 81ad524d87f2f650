// UltraFace (Linzaer's Ultra-Light-Fast-Generic-Face-Detector-1MB): fixed 320×240 and 640×480
// inputs, stretched; preprocessing as the reference demo.

import type { DetectorFamily, DetectorModel } from '../../family.ts';
import type { DetectorSpec } from '../../spec.ts';
import { decodeUltraFace } from './decode.ts';

function spec(inputWidth: number, inputHeight: number): DetectorSpec {
  return {
    type: 'ultraface',
    model: 'model.onnx',
    inputName: 'input',
    layout: 'nchw',
    inputWidth,
    inputHeight,
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
  };
}

const models: readonly DetectorModel[] = [
  {
    name: 'ultraface-rfb-320',
    spec: spec(320, 240),
    measuredThreshold: 0.9,
    published: {
      file: 'version-RFB-320.onnx',
      bytes: 1_270_727,
      sha256: '34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017',
    },
  },
  {
    name: 'ultraface-rfb-640',
    spec: spec(640, 480),
    measuredThreshold: 0.8,
    published: {
      file: 'version-RFB-640.onnx',
      bytes: 1_588_012,
      sha256: '8f4c659275977e7a3bfbfa339a9c769ad793df50f9c0baa8c14b11baa1646430',
    },
  },
];

export const ultraFace: DetectorFamily = {
  name: 'ultraface',
  summary: 'version-RFB-320 and version-RFB-640 (github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB)',
  decode: decodeUltraFace,
  models,
  publisherUrl:
    'https://raw.githubusercontent.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/master/models/onnx',
};
