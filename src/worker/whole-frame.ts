// Whole-frame mode: the frame itself goes to the classifier (inputs that are already face crops,
// or a first pass without detection). One FaceResult per frame whose box is the whole frame and
// whose detector score is null. The face-detection stage replaces this analyzer, not the worker.

import type { FrameAnalysis, FrameAnalyzer, ModelInfo, RgbImage } from '../core/types.ts';
import type { ImageClassifier } from '../inference/types.ts';

export class WholeFrameAnalyzer implements FrameAnalyzer {
  readonly info: ModelInfo;

  constructor(private readonly classifier: ImageClassifier & { readonly info?: ModelInfo }) {
    const base = classifier.info ?? { name: classifier.name, labels: classifier.labels, preprocessing: {} };
    this.info = { ...base, detector: null };
  }

  async analyze(frame: RgbImage): Promise<FrameAnalysis> {
    const classification = await this.classifier.classify(frame);
    return { faces: [{ ...classification, box: { x: 0, y: 0, width: frame.width, height: frame.height }, detectorScore: null }] };
  }

  close(): Promise<void> {
    return this.classifier.close();
  }
}
