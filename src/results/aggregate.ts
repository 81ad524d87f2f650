import type { FrameResult } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import { detectCuts } from './scenes.ts';
import {
  argmax,
  buildSegments,
  distributionOf,
  dominantOf,
  meanOrNull,
  meanVector,
  medianInterval,
  type Point,
} from './timeline.ts';
import {
  RESULT_SCHEMA_VERSION,
  type BuildVideoResultInput,
  type Distribution,
  type Dominant,
  type FaceEntry,
  type FrameEntry,
  type Segment,
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
