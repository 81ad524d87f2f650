// Scores an analyzer on labelled images: each image's ground truth (mapped to the canonical names,
// core/expressions.ts) against the model's answer for its face. With detection, the largest face
// found is the labelled one; images with no face, or with several, are counted as such (an image
// with no face is excluded from the classification metrics and reported as missed coverage).

import { canonicalExpression } from '../core/expressions.ts';
import type { FaceResult } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import type { ImageEntry } from './image-set.ts';
import { ClassificationScorer, type ClassificationReport } from './metrics.ts';
import type { ImageOutcome } from './run-images.ts';

export interface EvaluationSummary {
  readonly report: ClassificationReport;
  readonly images: number;
  /** Images that could not be read or analysed, by error code, with the first few paths. */
  readonly failed: {
    readonly count: number;
    readonly examples: ReadonlyArray<{ readonly path: string; readonly error: string }>;
  };
  /** Detection runs: images in which no face / more than one face was found. */
  readonly noFace: number;
  readonly severalFaces: number;
  /** Share of readable images that got an answer (1 without detection). */
  readonly coverage: number;
}

const largest = (faces: readonly FaceResult[]) =>
  faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));

/** The model label a ground-truth name stands for, or a FerError naming the labels the model has. */
export function truthIndex(label: string, modelLabels: readonly string[]): number {
  const direct = modelLabels.indexOf(label);
  if (direct >= 0) return direct;
  const canonical = canonicalExpression(label);
  const mapped = canonical === undefined ? -1 : modelLabels.indexOf(canonical);
  if (mapped >= 0) return mapped;
  throw new FerError(
    'label_unknown',
    `ground-truth label "${label}" is none of the model's labels (${modelLabels.join(', ')}) nor one of their usual spellings`,
  );
}

export class Evaluation {
  private readonly scorer: ClassificationScorer;
  private images = 0;
  private failedCount = 0;
  private readonly failedExamples: Array<{ path: string; error: string }> = [];
  private noFace = 0;
  private severalFaces = 0;
  private readonly truthCache = new Map<string, number>();

  constructor(private readonly labels: readonly string[]) {
    this.scorer = new ClassificationScorer(labels);
  }

  add(outcome: ImageOutcome<ImageEntry>): void {
    this.images++;
    if ('error' in outcome) {
      this.failedCount++;
      if (this.failedExamples.length < 10) this.failedExamples.push({ path: outcome.entry.path, error: outcome.error });
      return;
    }
    const label = outcome.entry.label;
    if (label === undefined) throw new FerError('label_missing', `${outcome.entry.path} has no ground-truth label`);
    let truth = this.truthCache.get(label);
    if (truth === undefined) {
      truth = truthIndex(label, this.labels);
      this.truthCache.set(label, truth);
    }
    if (outcome.faces.length === 0) {
      this.noFace++;
      return;
    }
    if (outcome.faces.length > 1) this.severalFaces++;
    this.scorer.add(truth, largest(outcome.faces).probabilities);
  }

  summary(): EvaluationSummary {
    const readable = this.images - this.failedCount;
    return {
      report: this.scorer.report(),
      images: this.images,
      failed: { count: this.failedCount, examples: this.failedExamples },
      noFace: this.noFace,
      severalFaces: this.severalFaces,
      coverage: readable === 0 ? 0 : (readable - this.noFace) / readable,
    };
  }
}
