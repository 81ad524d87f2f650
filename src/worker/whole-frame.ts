// Whole-frame mode: the frame itself goes to the classifier (inputs that are already face crops,
// or a first pass without detection). One FaceResult per frame whose box is the whole frame and
// whose detector score is null. The face-detection stage replaces this analyzer, not the worker.

import type { FrameAnalysis, FrameAnalyzer, ModelInfo, RgbImage } from '../core/types.ts';
import { REUSE_OFF, ReuseGate, type ReuseSettings } from '../inference/analyzers/reuse.ts';
import type { ImageClassifier } from '../inference/types.ts';

export class WholeFrameAnalyzer implements FrameAnalyzer {
  readonly info: ModelInfo;

  constructor(
    private readonly classifier: ImageClassifier & { readonly info?: ModelInfo },
    /** Classifying only frames that changed (inference/analyzers/reuse.ts); default off. */
    private readonly reuse: ReuseSettings = REUSE_OFF,
  ) {
    const base = classifier.info ?? { name: classifier.name, labels: classifier.labels, preprocessing: {} };
    this.info = { ...base, detector: null };
  }

  async analyze(frame: RgbImage): Promise<FrameAnalysis> {
    const [outcome] = await this.analyzeSequence([frame]);
    if (outcome!.status === 'rejected') throw outcome!.reason;
    return outcome!.value;
  }

  analyzeSequence(frames: readonly RgbImage[]): Promise<Array<PromiseSettledResult<FrameAnalysis>>> {
    const gate = new ReuseGate(this.reuse);
    const outcomes = frames.map((frame) => {
      const box = { x: 0, y: 0, width: frame.width, height: frame.height };
      const [face] = gate.next(frame, [{ box, crop: box }], () => this.classifier.classify(frame));
      return face!.outcome.then(({ classification, reused }): FrameAnalysis => ({
        faces: [{ ...classification, box, detectorScore: null, ...(reused ? { reused: true as const } : {}) }],
      }));
    });
    gate.finish();
    return Promise.allSettled(outcomes);
  }

  close(): Promise<void> {
    return this.classifier.close();
  }
}
