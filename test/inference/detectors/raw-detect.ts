// Test helper: runs a detector model with onnxruntime directly on this thread (tests only; src
// goes through the inference host) so the pure pre/post-processing can be tested before and
// independently of the thread host.

import ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Detection, RgbImage } from '../../../src/core/types.ts';
import { decodeUltraFace } from '../../../src/inference/detectors/families/ultraface/decode.ts';
import { decodeYuNet } from '../../../src/inference/detectors/families/yunet/decode.ts';
import type { DecodeOptions } from '../../../src/inference/detectors/decode.ts';
import { letterboxMapping, stretchMapping } from '../../../src/inference/detectors/geometry.ts';
import { writeDetectorInput } from '../../../src/inference/detectors/preprocess.ts';
import type { DetectorSpec } from '../../../src/inference/detectors/spec.ts';
import type { Tensor } from '../../../src/inference/types.ts';

export async function readRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

const sessions = new Map<string, ort.InferenceSession>();

export async function rawDetect(
  onnxPath: string,
  spec: DetectorSpec,
  image: RgbImage,
  overrides: Partial<DecodeOptions> = {},
): Promise<Detection[]> {
  let session = sessions.get(onnxPath);
  if (session === undefined) {
    session = await ort.InferenceSession.create(onnxPath, { logSeverityLevel: 3, intraOpNumThreads: 1 });
    sessions.set(onnxPath, session);
  }
  const map = spec.resize === 'stretch' ? stretchMapping : letterboxMapping;
  const mapping = map(image.width, image.height, spec.inputWidth, spec.inputHeight);
  const data = new Float32Array(3 * spec.inputWidth * spec.inputHeight);
  await writeDetectorInput(image, mapping, spec, data, 0);
  const feeds = { [spec.inputName]: new ort.Tensor('float32', data, [1, 3, spec.inputHeight, spec.inputWidth]) };
  const results = await session.run(feeds);
  const outputs: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(results)) outputs[name] = { data: t.data as Float32Array, dims: t.dims };
  const options: DecodeOptions = {
    scoreThreshold: spec.scoreThreshold,
    nmsIou: spec.nmsIou,
    minFaceSize: 0,
    maxFaces: 100,
    ...overrides,
  };
  const decode = spec.type === 'ultraface' ? decodeUltraFace : decodeYuNet;
  return decode(outputs, 0, mapping, image, options);
}
