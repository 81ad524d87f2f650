// The worker's model stage in face mode: find the faces of a frame, crop each, classify each crop.
// Every crop is submitted to the classifier's batcher at once, so the faces of all frames being
// analysed concurrently (across jobs and videos) share classifier batches. A frame without a face
// yields `faces: []`: the frame is never classified as if it were a face.

import { faceAppearance } from '../../core/face-appearance.ts';
import type { Box, FaceResult, FrameAnalysis, FrameAnalyzer, ModelInfo, RgbImage } from '../../core/types.ts';
import { cropRgb, faceCropBox } from '../detectors/crop.ts';
import type { FaceDetector, ImageClassifier } from '../types.ts';

export interface DetectThenClassifyOptions {
  readonly detector: FaceDetector;
  readonly classifier: ImageClassifier & { readonly info?: ModelInfo };
  /** See `faceCropBox`: each side grows by this fraction of the box's longer side. */
  readonly cropMargin: number;
}

export class DetectThenClassifyAnalyzer implements FrameAnalyzer {
  readonly info: ModelInfo;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: DetectThenClassifyOptions) {
    const { detector, classifier } = options;
    const base: ModelInfo = classifier.info ?? { name: classifier.name, labels: classifier.labels, preprocessing: {} };
    this.info = { ...base, detector: detector.name, preprocessing: { ...base.preprocessing, faceCropMargin: options.cropMargin, faceCrop: 'square, clamped to the frame' } };
  }

  async analyze(frame: RgbImage): Promise<FrameAnalysis> {
    const detections = await this.options.detector.detect(frame);
    const faces = await Promise.all(
      detections.map(async (detection): Promise<FaceResult> => {
        const crop = cropRgb(frame, faceCropBox(detection.box, frame.width, frame.height, this.options.cropMargin));
        const classification = await this.options.classifier.classify(crop);
        return {
          ...classification,
          box: roundBox(detection.box),
          detectorScore: detection.score,
          ...(detection.landmarks ? { landmarks: detection.landmarks.map(([x, y]) => [round1(x), round1(y)] as const) } : {}),
          appearance: faceAppearance(frame, innerBox(detection.box)),
        };
      }),
    );
    return { faces };
  }

  /** Closes both models (each drains its batcher first). */
  close(): Promise<void> {
    this.closing ??= Promise.all([this.options.detector.close(), this.options.classifier.close()]).then(() => undefined);
    return this.closing;
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** Boxes to 0.1 px: sub-pixel digits carry no information and bloat stored results. */
function roundBox(box: FaceResult['box']): FaceResult['box'] {
  return { x: round1(box.x), y: round1(box.y), width: round1(box.width), height: round1(box.height) };
}

/** The middle of a face box (a fifth off each side): skin, eyes and mouth, little background or hair. */
function innerBox(box: Box): Box {
  return { x: box.x + box.width / 5, y: box.y + box.height / 5, width: (box.width * 3) / 5, height: (box.height * 3) / 5 };
}
