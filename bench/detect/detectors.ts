// Every face detector fer-stream can run, opened by name for the detection benchmark, at a low
// "floor" threshold: the benchmark detects once and sweeps the threshold over the scores (for hard
// NMS, filtering after NMS equals NMS after filtering; BlazeFace's weighted NMS blends a few more
// low-score boxes into each face at the floor, which moves boxes by a pixel or two).

import type { Config } from '../../src/config/index.ts';
import { ensureDetectorDir } from '../../src/inference/detectors/families/index.ts';
import { CropConfirmedDetector, DEFAULT_CROP_CHECK } from '../../src/inference/detectors/crop-confirmed-detector.ts';
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

function onnx(
  name: string,
  reference: number,
  thresholds: number[],
  input?: { width: number; height: number } | 'frame',
): BenchDetector {
  return {
    label: input === 'frame' ? `${name} @frame size` : input ? `${name} @${input.width}x${input.height}` : name,
    reference,
    thresholds,
    open: async (config, floor) => {
      const dir = await ensureDetectorDir(config.modelsDir, name);
      return loadDetector(dir, {
        inference: config.inference,
        settings: {
          scoreThreshold: floor,
          minFaceSize: config.faces.minFaceSize,
          maxFaces: 100,
          ...(input === 'frame'
            ? { frameSizedInput: true }
            : input
              ? { inputWidth: input.width, inputHeight: input.height }
              : {}),
        },
      });
    },
  };
}

async function tiny(config: Config, floor: number): Promise<FaceDetector> {
  const { detectorDir } = await ensureFaceApiModels(config.modelsDir);
  return loadTinyFaceDetector(detectorDir, {
    inference: config.inference,
    settings: { scoreThreshold: floor, minFaceSize: config.faces.minFaceSize, maxFaces: 100 },
  });
}

/**
 * `primary` with each face confirmed by BlazeFace full range at its reference threshold (the check the compact profile
 * puts behind face-api's tiny detector).
 */
function confirmed(primary: (config: Config, floor: number) => Promise<FaceDetector>): BenchDetector['open'] {
  return async (config, floor) =>
    new ConfirmedDetector(await primary(config, floor), await onnx('blazeface-back', 0.5, []).open(config, 0.5));
}

/**
 * `primary` with each face it scores below `trustAbove` confirmed by `confirmer` at `confirmAt` on a crop around it
 * (crop-confirmed-detector.ts).
 */
function cropChecked(
  label: string,
  primary: BenchDetector['open'],
  confirmer: string,
  confirmAt: number,
  trustAbove: number,
  reference: number,
): BenchDetector {
  return {
    label: `${label} + ${confirmer} ≥ ${confirmAt} on a crop${trustAbove <= 1 ? ` below ${trustAbove}` : ''}`,
    reference,
    thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    open: async (config, floor) =>
      new CropConfirmedDetector(await primary(config, floor), await onnx(confirmer, 0.5, []).open(config, confirmAt), {
        ...DEFAULT_CROP_CHECK,
        trustAbove,
      }),
  };
}

const yunetFrame = onnx('yunet-s-dynamic', 0.9, [], 'frame').open;
const blazeBack = onnx('blazeface-back', 0.5, []).open;

export const BENCH_DETECTORS: readonly BenchDetector[] = [
  onnx('ultraface-rfb-320', 0.7, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('ultraface-rfb-640', 0.7, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('yunet-2023mar', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('yunet-s-dynamic', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), { width: 320, height: 320 }),
  onnx('yunet-s-dynamic', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), { width: 640, height: 640 }),
  onnx('yunet-s-dynamic', 0.9, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), 'frame'),
  {
    label: 'faceapi-tiny-face-detector',
    reference: 0.5,
    thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    open: tiny,
  },
  onnx('blazeface-front', 0.5, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  onnx('blazeface-back', 0.5, sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
  {
    label: 'faceapi-tiny + blazeface-back check',
    reference: 0.5,
    thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    open: confirmed(tiny),
  },
  {
    label: 'ultraface-rfb-320 + blazeface-back check',
    reference: 0.7,
    thresholds: sweep(0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    open: confirmed(onnx('ultraface-rfb-320', 0.7, []).open),
  },
  // Second looks on a crop (crop-confirmed-detector.ts): the confirmer's threshold, and the primary
  // score from which no check is made.
  ...[0.6, 0.65, 0.7].flatMap((confirmAt) => [
    ...[0.85, 0.9, 2].map((trust) =>
      cropChecked('yunet-s-dynamic @frame size', yunetFrame, 'blazeface-back', confirmAt, trust, 0.9),
    ),
    cropChecked('yunet-s-dynamic @frame size', yunetFrame, 'blazeface-front', confirmAt, 2, 0.9),
    ...[0.8, 2].map((trust) => cropChecked('blazeface-back', blazeBack, 'blazeface-front', confirmAt, trust, 0.5)),
  ]),
];

/** Installs the shared UltraFace and YuNet files into the models directory (BlazeFace and face-api come from npm). */
export async function installBenchModels(sharedModels: string, modelsDir: string): Promise<void> {
  await installLocal(sharedModels, modelsDir, ['ultraface', 'yunet']);
}
