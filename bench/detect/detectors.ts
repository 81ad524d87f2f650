// Every face detector fer-stream can run, opened by name for the detection benchmark, at a low
// "floor" threshold: the benchmark detects once and sweeps the threshold over the scores (for hard
// NMS, filtering after NMS equals NMS after filtering; BlazeFace's weighted NMS blends a few more
// low-score boxes into each face at the floor, which moves boxes by a pixel or two).

import path from 'node:path';
import type { Config } from '../../src/config/index.ts';
import { ensureBlazeFaceModel, isBlazeFaceModel } from '../../src/inference/detectors/blazeface-install.ts';
import { ConfirmedDetector } from '../../src/inference/detectors/confirmed-detector.ts';
import { loadDetector } from '../../src/inference/detectors/detector.ts';
import { loadTinyFaceDetector } from '../../src/inference/detectors/tiny-face.ts';
import { ensureFaceApiModels } from '../../src/models/faceapi/convert.ts';
import { installLocal } from '../../src/models/fetch/fetch.ts';
import type { FaceDetector } from '../../src/inference/types.ts';

export interface BenchDetector {
  /** Row label: model directory name, with its input size where it can vary. */
  readonly label: string;
  /** The model's reference threshold (its publisher's demo) and the thresholds swept. */
  readonly reference: number;
  readonly thresholds: readonly number[];
  readonly open: (config: Config, floor: number) => Promise<FaceDetector>;
}

const sweep = (...t: number[]) => t;

function onnx(name: string, reference: number, thresholds: number[], input?: { width: number; height: number } | 'frame'): BenchDetector {
  return {
    label: input === 'frame' ? `${name} @frame size` : input ? `${name} @${input.width}x${input.height}` : name,
    reference,
    thresholds,
    open: async (config, floor) => {
      const dir = isBlazeFaceModel(name) ? await ensureBlazeFaceModel(config.modelsDir, name) : path.join(config.modelsDir, name);
      return loadDetector(dir, {
        inference: config.inference,
        settings: { scoreThreshold: floor, minFaceSize: config.faces.minFaceSize, maxFaces: 100, ...(input === 'frame' ? { frameSizedInput: true } : input ? { inputWidth: input.width, inputHeight: input.height } : {}) },
      });
    },
  };
}

async function tiny(config: Config, floor: number): Promise<FaceDetector> {
  const { detectorDir } = await ensureFaceApiModels(config.modelsDir);
  return loadTinyFaceDetector(detectorDir, { inference: config.inference, settings: { scoreThreshold: floor, minFaceSize: config.faces.minFaceSize, maxFaces: 100 } });
}

/** `primary` with each face confirmed by BlazeFace full range at its reference threshold (the check the compact profile puts behind face-api's tiny detector). */
function confirmed(primary: (config: Config, floor: number) => Promise<FaceDetector>): BenchDetector['open'] {
  return async (config, floor) => new ConfirmedDetector(await primary(config, floor), await onnx('blazeface-back', 0.5, []).open(config, 0.5));
}

export const BENCH_DETECTORS: readonly BenchDetector[] = [
  onnx('ultraface-rfb-320', 0.7, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('ultraface-rfb-640', 0.7, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('yunet-2023mar', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('yunet-s-dynamic', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), { width: 320, height: 320 }),
  onnx('yunet-s-dynamic', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), { width: 640, height: 640 }),
  onnx('yunet-s-dynamic', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), 'frame'),
  { label: 'faceapi-tiny-face-detector', reference: 0.5, thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), open: tiny },
  onnx('blazeface-front', 0.5, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('blazeface-back', 0.5, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  { label: 'faceapi-tiny + blazeface-back check', reference: 0.5, thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8), open: confirmed(tiny) },
  { label: 'ultraface-rfb-320 + blazeface-back check', reference: 0.7, thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8), open: confirmed(onnx('ultraface-rfb-320', 0.7, []).open) },
];

/** Installs the shared UltraFace and YuNet files into the models directory (BlazeFace and face-api come from npm). */
export async function installBenchModels(sharedModels: string, modelsDir: string): Promise<void> {
  await installLocal(sharedModels, modelsDir, ['ultraface', 'yunet']);
}
