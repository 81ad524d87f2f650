import { FerError, type FrameResult } from '../core/types.ts';
import { detectCuts } from './scenes.ts';
import {
  FAILED,
  NO_FACE,
  RESULT_SCHEMA_VERSION,
  type BuildVideoResultInput,
  type Distribution,
  type Dominant,
  type FaceEntry,
  type FrameEntry,
  type Segment,
  type SegmentKind,
  type PersonSummary,
  type TrackSummary,
  type VideoResult,
} from './types.ts';

// Pure aggregation of a video's frame results into the per-video result. No I/O: the pipeline
// calls it once every frame is done, tests call it with hand-made frames.

export function buildVideoResult(input: BuildVideoResultInput): VideoResult {
  const labels = input.model.labels;
  if (labels.length === 0) throw new FerError('invalid_model_info', 'model info has no labels');
  const window = input.aggregation?.smoothingWindow ?? 1;
  if (!Number.isInteger(window) || window < 1) {
    throw new FerError('invalid_option', `smoothingWindow must be an integer ≥ 1, got ${window}`);
  }

  const deduplicated = dedupeFrames(input.frames);
  const cuts = input.cuts ?? (input.cutThreshold !== undefined ? detectCuts(deduplicated, input.cutThreshold) : []);
  const tracked = input.assignTracks
    ? sortByIndex(input.assignTracks(deduplicated, { cutIndexes: new Set(cuts.map((c) => c.index)) }))
    : deduplicated;
  const frames = tracked.map((f) => toFrameEntry(f, labels));
  const frameInterval = input.aggregation?.frameInterval ?? medianInterval(frames);
  const endOf = (position: number): number =>
    position + 1 < frames.length ? frames[position + 1]!.timestamp : frames[position]!.timestamp + frameInterval;

  const points: Point[] = frames.map((f, position) => ({
    position,
    index: f.index,
    timestamp: f.timestamp,
    kind: f.error !== undefined ? 'failed' : f.probabilities === null ? 'no_face' : 'expression',
    probabilities: f.probabilities,
  }));

  const withFace = frames.filter((f) => f.probabilities !== null);
  const distribution = distributionOf(
    withFace.map((f) => f.probabilities!),
    labels,
  );
  const analysed = frames.filter((f) => f.error === undefined).length;
  const faces = frames.reduce((n, f) => n + f.faces.length, 0);
  const tracks = trackSummaries(frames, labels, window, endOf);
  const persons = personSummaries(frames, labels, window, endOf, frameInterval);
  const decodeErrors = input.decodeErrors ?? 0;
  const warnings: string[] = [];
  if (decodeErrors > 0)
    warnings.push(
      `ffmpeg reported ${decodeErrors} decoding error${decodeErrors === 1 ? '' : 's'} in the video stream: some frames may show concealed damage`,
    );
  if (frames.length > analysed)
    warnings.push(
      `${frames.length - analysed} of ${frames.length} sampled frames could not be analysed (see each frame's error)`,
    );

  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    videoId: input.videoId,
    video: input.video,
    model: input.model,
    labels,
    processing: input.processing ?? {},
    aggregation: { smoothingWindow: window, frameInterval },
    timings: input.timings ?? {},
    counts: {
      sampled: frames.length,
      analysed,
      failed: frames.length - analysed,
      withFace: withFace.length,
      withoutFace: analysed - withFace.length,
      faces,
      reusedFaces: frames.reduce((n, f) => n + f.faces.filter((face) => face.reused).length, 0),
      faceVisibleShare: analysed === 0 ? 0 : withFace.length / analysed,
      tracks: tracks.length,
      persons: persons.length,
      decodeErrors,
    },
    dominant: dominantOf(distribution, labels, withFace.length),
    distribution,
    segments: buildSegments(points, labels, window, endOf),
    tracks,
    persons,
    frames,
    warnings,
    cuts,
  };
}

/** One frame index once (a frame processed twice counts once; an analysed copy beats a failed one), sorted. */
function dedupeFrames(frames: readonly FrameResult[]): FrameResult[] {
  const byIndex = new Map<number, FrameResult>();
  for (const frame of frames) {
    const seen = byIndex.get(frame.index);
    if (seen === undefined || (seen.error !== undefined && frame.error === undefined)) byIndex.set(frame.index, frame);
  }
  return sortByIndex([...byIndex.values()]);
}

function sortByIndex(frames: readonly FrameResult[]): FrameResult[] {
  return [...frames].sort((a, b) => a.index - b.index);
}

function toFrameEntry(frame: FrameResult, labels: readonly string[]): FrameEntry {
  // A face scored over another label set (e.g. workers running different models on one video)
  // cannot be averaged with the rest: the frame is reported as failed, saying why, rather than
  // failing the whole video.
  const mismatch = frame.faces.findIndex((face) => face.probabilities.length !== labels.length);
  const error =
    frame.error ??
    (mismatch >= 0
      ? `face ${mismatch} has ${frame.faces[mismatch]!.probabilities.length} probabilities but the model has ${labels.length} labels (frame analysed by a different model?)`
      : undefined);
  if (error !== undefined)
    return { index: frame.index, timestamp: frame.timestamp, probabilities: null, label: null, faces: [], error };
  const faces: FaceEntry[] = frame.faces.map((face) => ({
    box: face.box,
    detectorScore: face.detectorScore,
    trackId: face.trackId ?? null,
    personId: face.personId ?? null,
    probabilities: face.probabilities,
    label: face.label,
    ...(face.landmarks ? { landmarks: face.landmarks } : {}),
    ...(face.reused ? { reused: true as const } : {}),
  }));
  const probabilities = faces.length > 0 ? meanVector(faces.map((f) => f.probabilities)) : null;
  return {
    index: frame.index,
    timestamp: frame.timestamp,
    probabilities,
    label: probabilities === null ? null : labels[argmax(probabilities)]!,
    faces,
  };
}

interface Point {
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
function buildSegments(
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
function smooth(points: readonly Point[], window: number): Array<readonly number[] | null> {
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

interface GroupSummary {
  readonly id: number;
  readonly firstTimestamp: number;
  readonly lastTimestamp: number;
  readonly frames: number;
  readonly distribution: Distribution;
  readonly dominant: Dominant | null;
  readonly segments: readonly Segment[];
  readonly meanDetectorScore: number | null;
  /** The ids of `other` (the other grouping) seen in this group, ascending. */
  readonly others: readonly number[];
}

/** Faces grouped by `key` (track or person): each group's timeline, distribution and detector score. */
function groupSummaries(
  frames: readonly FrameEntry[],
  labels: readonly string[],
  window: number,
  endOf: (position: number) => number,
  key: (face: FaceEntry) => number | null,
  other: (face: FaceEntry) => number | null,
): GroupSummary[] {
  const byGroup = new Map<number, Point[]>();
  const scores = new Map<number, number[]>();
  const others = new Map<number, Set<number>>();
  frames.forEach((frame, position) => {
    const facesByGroup = new Map<number, FaceEntry[]>();
    for (const face of frame.faces) {
      const id = key(face);
      if (id === null) continue;
      facesByGroup.set(id, [...(facesByGroup.get(id) ?? []), face]);
      if (face.detectorScore !== null) scores.set(id, [...(scores.get(id) ?? []), face.detectorScore]);
      const o = other(face);
      if (o !== null) others.set(id, (others.get(id) ?? new Set<number>()).add(o));
    }
    for (const [id, faces] of facesByGroup) {
      // Two faces of one track in a frame should not happen; if a tracker does it, average them.
      const points = byGroup.get(id) ?? [];
      points.push({
        position,
        index: frame.index,
        timestamp: frame.timestamp,
        kind: 'expression',
        probabilities: meanVector(faces.map((f) => f.probabilities)),
      });
      byGroup.set(id, points);
    }
  });
  return [...byGroup.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, points]) => {
      const distribution = distributionOf(
        points.map((p) => p.probabilities!),
        labels,
      );
      return {
        id,
        firstTimestamp: points[0]!.timestamp,
        lastTimestamp: points[points.length - 1]!.timestamp,
        frames: points.length,
        distribution,
        dominant: dominantOf(distribution, labels, points.length),
        segments: buildSegments(points, labels, window, endOf),
        meanDetectorScore: meanOrNull(scores.get(id)),
        others: [...(others.get(id) ?? [])].sort((a, b) => a - b),
      };
    });
}

function trackSummaries(
  frames: readonly FrameEntry[],
  labels: readonly string[],
  window: number,
  endOf: (position: number) => number,
): TrackSummary[] {
  return groupSummaries(
    frames,
    labels,
    window,
    endOf,
    (f) => f.trackId,
    (f) => f.personId,
  ).map(({ id, others, ...summary }) => ({
    trackId: id,
    personId: others[0] ?? null,
    ...summary,
  }));
}

function personSummaries(
  frames: readonly FrameEntry[],
  labels: readonly string[],
  window: number,
  endOf: (position: number) => number,
  frameInterval: number,
): PersonSummary[] {
  return groupSummaries(
    frames,
    labels,
    window,
    endOf,
    (f) => f.personId,
    (f) => f.trackId,
  ).map(({ id, others, ...summary }) => ({
    personId: id,
    trackIds: others,
    ...summary,
    screenTimeSeconds: Math.round(summary.frames * frameInterval * 1000) / 1000,
  }));
}

function meanOrNull(values: readonly number[] | undefined): number | null {
  if (!values || values.length === 0) return null;
  return Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1e4) / 1e4;
}

function distributionOf(vectors: readonly (readonly number[])[], labels: readonly string[]): Distribution {
  const mean = vectors.length === 0 ? labels.map(() => 0) : meanVector(vectors);
  const counts = labels.map(() => 0);
  for (const v of vectors) counts[argmax(v)]! += 1;
  return {
    meanProbability: Object.fromEntries(labels.map((l, i) => [l, mean[i]!])),
    frameShare: Object.fromEntries(labels.map((l, i) => [l, vectors.length === 0 ? 0 : counts[i]! / vectors.length])),
  };
}

/** The label on top in the most frames; ties go to the higher mean probability, then label order. */
function dominantOf(distribution: Distribution, labels: readonly string[], frames: number): Dominant | null {
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
function medianInterval(frames: readonly FrameEntry[]): number {
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

function meanVector(vectors: readonly (readonly number[])[]): number[] {
  const sum = new Array<number>(vectors[0]!.length).fill(0);
  for (const v of vectors) for (let i = 0; i < v.length; i++) sum[i]! += v[i]!;
  return sum.map((s) => s / vectors.length);
}

/**
 * The same result with the timeline re-smoothed over `smoothingWindow` frames (segments and track
 * segments recomputed from the stored frames; everything else unchanged). Lets a reader choose the
 * smoothing after the fact (`?smoothing=k`, `results --smoothing k`) without reprocessing the video.
 */
export function resmoothVideoResult(result: VideoResult, smoothingWindow: number): VideoResult {
  const frames: FrameResult[] = result.frames.map((f) => ({
    index: f.index,
    timestamp: f.timestamp,
    faces: f.faces.map((face) => ({
      probabilities: face.probabilities,
      label: face.label,
      labelIndex: result.labels.indexOf(face.label),
      box: face.box,
      detectorScore: face.detectorScore,
      ...(face.trackId !== null ? { trackId: face.trackId } : {}),
      // Results stored before persons were recorded have no personId.
      ...(face.personId !== null && face.personId !== undefined ? { personId: face.personId } : {}),
      ...(face.landmarks ? { landmarks: face.landmarks } : {}),
      ...(face.reused ? { reused: true as const } : {}),
    })),
    ...(f.error !== undefined ? { error: f.error } : {}),
  }));
  return buildVideoResult({
    videoId: result.videoId,
    frames,
    video: result.video,
    model: result.model,
    timings: result.timings,
    processing: result.processing,
    aggregation: { smoothingWindow, frameInterval: result.aggregation.frameInterval },
    // Results stored before decode errors and cuts were recorded have no such fields.
    decodeErrors: result.counts.decodeErrors ?? 0,
    cuts: result.cuts ?? [],
  });
}
