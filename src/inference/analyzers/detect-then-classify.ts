// The worker's model stage in face mode: find the faces of a frame, crop each, classify each crop.
// Every crop is submitted to the classifier's batcher at once, so the faces of all frames being
// analysed concurrently (across jobs and videos) share classifier batches. A frame without a face
// yields `faces: []`: the frame is never classified as if it were a face.

import { faceAppearance } from '../../core/face-appearance.ts';
import { quantizeIdentity } from '../../core/face-identity.ts';
import type {
  Box,
  Detection,
  FaceResult,
  FrameAnalysis,
  FrameAnalyzer,
  ModelInfo,
  RgbImage,
} from '../../core/types.ts';
import { cropRgb, faceCropBox, identityCropBox } from '../detectors/crop.ts';
import type { FaceDetector, FaceIdentityEmbedder, ImageClassifier } from '../types.ts';
import { REUSE_OFF, ReuseGate, type ReuseSettings } from './reuse.ts';

export interface DetectThenClassifyOptions {
  readonly detector: FaceDetector;
  readonly classifier: ImageClassifier & { readonly info?: ModelInfo };
  /** See `faceCropBox`: each side grows by this fraction of the box's longer side. */
  readonly cropMargin: number;
  /** Classifying only what changed across consecutive frames (reuse.ts); default off. */
  readonly reuse?: ReuseSettings;
  /**
   * Gives each classified face an identity descriptor (persons across cuts, results/persons.ts); reused faces get none.
   */
  readonly embedder?: FaceIdentityEmbedder;
}

export class DetectThenClassifyAnalyzer implements FrameAnalyzer {
  readonly info: ModelInfo;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: DetectThenClassifyOptions) {
    const { detector, classifier } = options;
    const base: ModelInfo = classifier.info ?? { name: classifier.name, labels: classifier.labels, preprocessing: {} };
    this.info = {
      ...base,
      detector: detector.name,
      ...(options.embedder ? { identity: options.embedder.name } : {}),
      preprocessing: {
        ...base.preprocessing,
        faceCropMargin: options.cropMargin,
        faceCrop: 'square, clamped to the frame',
      },
    };
  }

  async analyze(frame: RgbImage): Promise<FrameAnalysis> {
    const [outcome] = await this.analyzeSequence([frame]);
    if (outcome!.status === 'rejected') throw outcome!.reason;
    return outcome!.value;
  }

  /**
   * Every frame's detection is submitted at once (batched); as each resolves, in order, its faces
   * go through the reuse gate and those that changed to the classifier — so classification of the
   * first frames runs while later ones are still being detected.
   */
  async analyzeSequence(frames: readonly RgbImage[]): Promise<Array<PromiseSettledResult<FrameAnalysis>>> {
    const { detector } = this.options;
    const detections = frames.map((frame) => detector.detect(frame));
    for (const d of detections) d.catch(() => undefined);
    const gate = new ReuseGate(this.options.reuse ?? REUSE_OFF);
    let outcomes: Array<Promise<FrameAnalysis>>;
    try {
      outcomes = await this.gateFrames(frames, detections, gate);
    } finally {
      // Faces of runs still open wait for this: it must come before anything awaits them.
      gate.finish();
    }
    return Promise.allSettled(outcomes);
  }

  private async gateFrames(
    frames: readonly RgbImage[],
    detections: ReadonlyArray<Promise<Detection[]>>,
    gate: ReuseGate,
  ): Promise<Array<Promise<FrameAnalysis>>> {
    const { classifier, cropMargin, embedder } = this.options;
    const outcomes: Array<Promise<FrameAnalysis>> = [];
    for (const [i, frame] of frames.entries()) {
      let found: Detection[];
      try {
        found = await detections[i]!;
      } catch (error) {
        gate.finish();
        outcomes.push(Promise.reject(error));
        outcomes.at(-1)!.catch(() => undefined);
        continue;
      }
      const faces = found.map((detection) => ({
        detection,
        box: detection.box,
        crop: faceCropBox(detection.box, frame.width, frame.height, cropMargin),
      }));
      const gated = gate.next(frame, faces, (crop) => classifier.classify(cropRgb(frame, crop)));
      const outcome = Promise.all(
        gated.map(async (face, j): Promise<FaceResult> => {
          const { detection } = faces[j]!;
          const { classification, reused } = await face.outcome;
          const identity =
            embedder && !reused
              ? quantizeIdentity(
                  await embedder.embed(cropRgb(frame, identityCropBox(detection, frame.width, frame.height))),
                )
              : undefined;
          return {
            ...classification,
            box: roundBox(detection.box),
            detectorScore: detection.score,
            ...(detection.landmarks
              ? { landmarks: detection.landmarks.map(([x, y]) => [round1(x), round1(y)] as const) }
              : {}),
            appearance: faceAppearance(frame, innerBox(detection.box)),
            ...(identity ? { identity } : {}),
            ...(reused ? { reused: true as const } : {}),
          };
        }),
      ).then((results) => ({ faces: results }));
      outcome.catch(() => undefined);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /** Closes the models (each drains its batcher first). */
  close(): Promise<void> {
    this.closing ??= Promise.all([
      this.options.detector.close(),
      this.options.classifier.close(),
      this.options.embedder?.close(),
    ]).then(() => undefined);
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
  return {
    x: box.x + box.width / 5,
    y: box.y + box.height / 5,
    width: (box.width * 3) / 5,
    height: (box.height * 3) / 5,
  };
}
