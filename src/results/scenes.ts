// Scene cuts, from the frames themselves: consecutive sampled frames whose colour signatures
// (core/colour-signature.ts, computed by the worker) differ by more than a threshold. A cut ends
// every face track (a person is not the same person across a cut) and is reported in the result.
//
// Score: the colour histograms' total-variation distance (0..1) plus twice the 8×8 brightness
// thumbnails' mean absolute difference (0..1). A cut to another shot changes both; a pan, a zoom,
// a moving pattern within one shot changes the colours somewhat and the layout little. Measured
// (BENCHMARKS.md "Scene cuts"): cuts 0.51–0.96, within shots at most 0.31 — threshold 0.4.

import { histogramDistance, thumbnailDistance } from '../core/colour-signature.ts';
import type { FrameResult } from '../core/types.ts';

export interface SceneCut {
  /** Index of the first frame of the new scene. */
  readonly index: number;
  readonly timestamp: number;
  /** How different the frame is from the one before (histogram + 2 × thumbnail distance, 0..3). */
  readonly score: number;
}

/** Cuts between consecutive frames (by index) with signatures; frames without one (failed) are skipped over. */
export function detectCuts(frames: readonly FrameResult[], threshold: number): SceneCut[] {
  const sorted = [...frames].filter((f) => f.signature !== undefined).sort((a, b) => a.index - b.index);
  const cuts: SceneCut[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!.signature!;
    const current = sorted[i]!.signature!;
    const score =
      histogramDistance(previous.histogram, current.histogram) +
      2 * thumbnailDistance(previous.thumbnail, current.thumbnail);
    if (score >= threshold)
      cuts.push({ index: sorted[i]!.index, timestamp: sorted[i]!.timestamp, score: Math.round(score * 1000) / 1000 });
  }
  return cuts;
}

/** Every consecutive pair's score, for measuring thresholds (bench, tests). */
export function cutScores(frames: readonly FrameResult[]): Array<{ index: number; score: number }> {
  return detectCuts(frames, Number.NEGATIVE_INFINITY).map(({ index, score }) => ({ index, score }));
}
