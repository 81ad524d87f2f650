// The per-video result's arithmetic: labelled points merged into timeline segments, smoothing
// over adjacent frames, distributions and the dominant label. Pure functions (aggregate.ts).

import {
  FAILED,
  NO_FACE,
  type Distribution,
  type Dominant,
  type FrameEntry,
  type Segment,
  type SegmentKind,
} from './types.ts';

export interface Point {
  /** Position among the video's sampled frames (sorted), to see gaps and find the next frame. */
  readonly position: number;
  readonly index: number;
  readonly timestamp: number;
  readonly kind: SegmentKind;
  readonly probabilities: readonly number[] | null;
}

/**
 * Merges consecutive points with the same label into segments. Points not adjacent among the
 * sampled frames (a track absent in between) never share a segment.
 */
export function buildSegments(
  points: readonly Point[],
  labels: readonly string[],
  window: number,
  endOf: (position: number) => number,
): Segment[] {
  const smoothed = smooth(points, window);
  const segments: Segment[] = [];
  let run: { kind: SegmentKind; label: string; first: Point; last: Point; frames: number; sum: number } | undefined;
  const close = () => {
    if (run === undefined) return;
    segments.push({
      kind: run.kind,
      label: run.label,
      start: run.first.timestamp,
      end: endOf(run.last.position),
      firstFrame: run.first.index,
      lastFrame: run.last.index,
      frames: run.frames,
      meanProbability: run.kind === 'expression' ? run.sum / run.frames : null,
    });
  };
  points.forEach((point, i) => {
    const probs = smoothed[i];
    const labelIndex = probs === null || probs === undefined ? -1 : argmax(probs);
    const label = point.kind === 'failed' ? FAILED : point.kind === 'no_face' ? NO_FACE : labels[labelIndex]!;
    const p = labelIndex >= 0 ? probs![labelIndex]! : 0;
    if (
      run !== undefined &&
      run.kind === point.kind &&
      run.label === label &&
      run.last.position + 1 === point.position
    ) {
      run.last = point;
      run.frames += 1;
      run.sum += p;
      return;
    }
    close();
    run = { kind: point.kind, label, first: point, last: point, frames: 1, sum: p };
  });
  close();
  return segments;
}

/** Centred moving average over runs of adjacent points that have probabilities. */
export function smooth(points: readonly Point[], window: number): Array<readonly number[] | null> {
  if (window <= 1) return points.map((p) => p.probabilities);
  const before = Math.floor((window - 1) / 2);
  const after = window - 1 - before;
  // Run boundaries: a run is a maximal stretch of adjacent points with probabilities.
  const runStart: number[] = [];
  const runEnd: number[] = new Array(points.length);
  points.forEach((p, i) => {
    const continues =
      i > 0 &&
      points[i - 1]!.probabilities !== null &&
      p.probabilities !== null &&
      points[i - 1]!.position + 1 === p.position;
    runStart[i] = continues ? runStart[i - 1]! : i;
  });
  for (let i = points.length - 1; i >= 0; i--) {
    const continues =
      i + 1 < points.length &&
      points[i + 1]!.probabilities !== null &&
      points[i]!.probabilities !== null &&
      points[i]!.position + 1 === points[i + 1]!.position;
    runEnd[i] = continues ? runEnd[i + 1]! : i;
  }
  return points.map((p, i) => {
    if (p.probabilities === null) return null;
    const from = Math.max(runStart[i]!, i - before);
    const to = Math.min(runEnd[i]!, i + after);
    return meanVector(points.slice(from, to + 1).map((q) => q.probabilities!));
  });
}

export function meanOrNull(values: readonly number[] | undefined): number | null {
  if (!values || values.length === 0) return null;
  return Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1e4) / 1e4;
}

export function distributionOf(vectors: readonly (readonly number[])[], labels: readonly string[]): Distribution {
  const mean = vectors.length === 0 ? labels.map(() => 0) : meanVector(vectors);
  const counts = labels.map(() => 0);
  for (const v of vectors) counts[argmax(v)]! += 1;
  return {
    meanProbability: Object.fromEntries(labels.map((l, i) => [l, mean[i]!])),
    frameShare: Object.fromEntries(labels.map((l, i) => [l, vectors.length === 0 ? 0 : counts[i]! / vectors.length])),
  };
}

/** The label on top in the most frames; ties go to the higher mean probability, then label order. */
export function dominantOf(distribution: Distribution, labels: readonly string[], frames: number): Dominant | null {
  if (frames === 0) return null;
  let best = labels[0]!;
  for (const label of labels.slice(1)) {
    const share = distribution.frameShare[label]!;
    const bestShare = distribution.frameShare[best]!;
    if (
      share > bestShare ||
      (share === bestShare && distribution.meanProbability[label]! > distribution.meanProbability[best]!)
    )
      best = label;
  }
  return {
    label: best,
    frameShare: distribution.frameShare[best]!,
    meanProbability: distribution.meanProbability[best]!,
  };
}

/** Median gap between consecutive sampled frames; 0 with fewer than two frames. */
export function medianInterval(frames: readonly FrameEntry[]): number {
  const gaps = frames
    .slice(1)
    .map((f, i) => f.timestamp - frames[i]!.timestamp)
    .sort((a, b) => a - b);
  if (gaps.length === 0) return 0;
  const mid = Math.floor(gaps.length / 2);
  return gaps.length % 2 === 1 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export function meanVector(vectors: readonly (readonly number[])[]): number[] {
  const sum = new Array<number>(vectors[0]!.length).fill(0);
  for (const v of vectors) for (let i = 0; i < v.length; i++) sum[i]! += v[i]!;
  return sum.map((s) => s / vectors.length);
}
