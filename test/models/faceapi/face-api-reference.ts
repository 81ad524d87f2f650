// The original: @vladmandic/face-api's own networks on tfjs's pure-JS CPU backend (its node-wasm
// build takes tfjs from node_modules; we select the 'cpu' backend, so no native code or wasm
// runs). Used only by parity tests.

import { createRequire } from 'node:module';
import path from 'node:path';
import type { Box, RgbImage } from '../../../src/core/types.ts';

const require = createRequire(import.meta.url);

// face-api's node-wasm bundle: CommonJS, requires @tensorflow/tfjs + tfjs-backend-wasm.
type FaceApi = any;

let loaded: Promise<FaceApi> | undefined;

export const faceApiModelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');

export function loadFaceApi(): Promise<FaceApi> {
  loaded ??= (async () => {
    const faceapi: FaceApi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
    await faceapi.tf.setBackend('cpu');
    await faceapi.tf.ready();
    await faceapi.nets.tinyFaceDetector.loadFromDisk(faceApiModelDir);
    await faceapi.nets.faceExpressionNet.loadFromDisk(faceApiModelDir);
    return faceapi;
  })();
  return loaded;
}

function toTensor(faceapi: FaceApi, image: RgbImage) {
  return faceapi.tf.tensor3d(Int32Array.from(image.data), [image.height, image.width, 3], 'int32');
}

export interface ReferenceDetection {
  readonly box: Box;
  readonly score: number;
}

/** face-api's TinyFaceDetector.locateFaces on an RGB image: boxes in image pixels, unclipped. */
export async function referenceDetect(
  image: RgbImage,
  inputSize: number,
  scoreThreshold: number,
): Promise<ReferenceDetection[]> {
  const faceapi = await loadFaceApi();
  const tensor = toTensor(faceapi, image);
  try {
    const found = await faceapi.nets.tinyFaceDetector.locateFaces(tensor, { inputSize, scoreThreshold });
    return found.map((d: FaceApi) => ({
      box: { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height },
      score: d.score,
    }));
  } finally {
    tensor.dispose();
  }
}

/** The float tensor face-api's detector feeds its first layer (before mean/255), HWC, for checking our resize. */
export async function referenceDetectorInput(image: RgbImage, inputSize: number): Promise<Float32Array> {
  const faceapi = await loadFaceApi();
  const tensor = toTensor(faceapi, image);
  try {
    const netInput = await faceapi.toNetInput(tensor);
    const batch = netInput.toBatchTensor(inputSize, false);
    const data = (await batch.data()) as Float32Array;
    batch.dispose();
    return data;
  } finally {
    tensor.dispose();
  }
}

/**
 * face-api's FaceExpressionNet.predictExpressions on one RGB face image: the seven probabilities in its label order.
 */
export async function referenceExpressions(face: RgbImage): Promise<number[]> {
  const faceapi = await loadFaceApi();
  const tensor = toTensor(faceapi, face);
  try {
    const result = await faceapi.nets.faceExpressionNet.predictExpressions(tensor);
    return faceapi.FACE_EXPRESSION_LABELS.map((label: string) => result[label] as number);
  } finally {
    tensor.dispose();
  }
}

/** face-api's FaceRecognitionNet.computeFaceDescriptor on one RGB face image (128 values). */
export async function referenceDescriptor(face: RgbImage): Promise<Float32Array> {
  const faceapi = await loadFaceApi();
  if (!faceapi.nets.faceRecognitionNet.isLoaded) await faceapi.nets.faceRecognitionNet.loadFromDisk(faceApiModelDir);
  const tensor = toTensor(faceapi, face);
  try {
    return (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(tensor)) as Float32Array;
  } finally {
    tensor.dispose();
  }
}
