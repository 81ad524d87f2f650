// The worker's model stage in face mode: find the faces of a frame, crop each, classify each crop.
// Every crop is submitted to the classifier's batcher at once, so the faces of all frames being
// analysed concurrently (across jobs and videos) share classifier batches. A frame without a face
// yields `faces: []`: the frame is never classified as if it were a face.

import type { FaceResult, FrameAnalysis, FrameAnalyzer, ModelInfo, RgbImage } from '../../core/types.ts';
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
        return { ...classification, box: roundBox(detection.box), detectorScore: detection.score };
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

/** Boxes to 0.1 px: sub-pixel digits carry no information and bloat stored results. */
function roundBox(box: FaceResult['box']): FaceResult['box'] {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { x: r(box.x), y: r(box.y), width: r(box.width), height: r(box.height) };
}
