import type { SceneCut } from './scenes.ts';
import type { Box, FrameResult, ModelInfo } from '../core/types.ts';

// The per-video result: what a user gets back for one video (JSON as is, CSV and chart derived
// from it). Every field is documented in the README section "Results format"; change both together.

export const RESULT_SCHEMA_VERSION = 1;

/** Segment label of a run of sampled frames in which no face was found. */
export const NO_FACE = 'no_face';
/** Segment label of a run of sampled frames that could not be analysed. */
export const FAILED = 'failed';

/**
 * What is known about the video file (from the producer's probe). Only `durationSeconds` is read by
 * the aggregation (for the chart's time axis); every other probe field is carried through as is.
 */
export interface VideoMetadata {
  readonly durationSeconds?: number | null;
  readonly width?: number;
  readonly height?: number;
  readonly [field: string]: unknown;
}

/** Wall-clock moments of the video's life (ISO 8601) and derived durations. */
export interface ResultTimings {
  readonly submittedAt?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  /** completedAt − startedAt, when both are known. */
  readonly processingMs?: number | null;
  readonly [field: string]: unknown;
}

export interface AggregationOptions {
  /**
   * Moving-average window (in sampled frames, centred) applied to frame probabilities before the
   * arg-max that labels timeline segments; 1 = no smoothing. It never reaches across no-face or
   * failed frames. Frame entries and the distribution always use the raw probabilities.
   */
  readonly smoothingWindow?: number;
  /** Gap between sampled frames in seconds (1/fps), for the end of the last segment. */
  readonly frameInterval?: number;
}

export interface BuildVideoResultInput {
  readonly videoId: string;
  /** Results of the sampled frames, any order; a frame index present twice counts once. */
  readonly frames: readonly FrameResult[];
  readonly video: VideoMetadata;
  readonly model: ModelInfo;
  readonly timings?: ResultTimings;
  /** Options the video was processed with (sampling fps, start/end, max frames …), echoed in the result. */
  readonly processing?: Readonly<Record<string, unknown>>;
  readonly aggregation?: AggregationOptions;
  /**
   * Links faces across frames into tracks (sets `trackId`), run before aggregating. The faces
   * tracker of src/results/tracks.ts plugs in here; without one, track ids already on faces are used.
   */
  readonly assignTracks?: (
    frames: readonly FrameResult[],
    context: { readonly cutIndexes: ReadonlySet<number> },
  ) => readonly FrameResult[];
  /** Scene-cut threshold (src/results/scenes.ts); absent: no cut detection. */
  readonly cutThreshold?: number;
  /** Cuts already found (a stored result being re-aggregated, whose frames no longer carry signatures). */
  readonly cuts?: readonly SceneCut[];
  /** Damage ffmpeg reported while decoding the video (the producer's count); 0 when none. */
  readonly decodeErrors?: number;
}

export interface FaceEntry {
  readonly box: Box;
  /** null in whole-frame mode (the "face" is the whole frame). */
  readonly detectorScore: number | null;
  readonly trackId: number | null;
  /**
   * The person this face's track belongs to (tracks joined across cuts by identity); null where identities were not
   * computed.
   */
  readonly personId: number | null;
  readonly probabilities: readonly number[];
  readonly label: string;
  /** The detector's keypoints in video pixels, where it gives them (YuNet 5, BlazeFace 6; see docs/results.md). */
  readonly landmarks?: ReadonlyArray<readonly [number, number]>;
  /**
   * Present (true) when the classification is an earlier sampled frame's: the face had not changed, and its next
   * classification agreed (FER_REUSE_MAX_FRAMES).
   */
  readonly reused?: true;
}

export interface FrameEntry {
  readonly index: number;
  readonly timestamp: number;
  /** Mean of the faces' probabilities (order of `labels`); null when no face or failed. */
  readonly probabilities: readonly number[] | null;
  /** Arg-max of `probabilities`; null when no face or failed. */
  readonly label: string | null;
  readonly faces: readonly FaceEntry[];
  /** Why the frame could not be analysed (then `faces` is empty). */
  readonly error?: string;
}

export type SegmentKind = 'expression' | 'no_face' | 'failed';

/** A run of consecutive sampled frames with the same (smoothed) top label. */
export interface Segment {
  readonly kind: SegmentKind;
  /** The expression label, or `no_face` / `failed`. */
  readonly label: string;
  /** Timestamp of the first frame of the run (s). */
  readonly start: number;
  /** Timestamp of the frame after the run, or the last frame's plus one frame interval (s). */
  readonly end: number;
  readonly firstFrame: number;
  readonly lastFrame: number;
  readonly frames: number;
  /** Mean (smoothed) probability of `label` over the run; null for no_face / failed. */
  readonly meanProbability: number | null;
}

export interface Distribution {
  /** Mean frame probability per label over frames with a face. */
  readonly meanProbability: Readonly<Record<string, number>>;
  /** Share (0..1) of frames with a face whose top label is this label. */
  readonly frameShare: Readonly<Record<string, number>>;
}

export interface Dominant {
  readonly label: string;
  /** Share of frames with a face whose top label is `label`. */
  readonly frameShare: number;
  readonly meanProbability: number;
}

export interface ResultCounts {
  /** Sampled frames (analysed + failed). */
  readonly sampled: number;
  readonly analysed: number;
  readonly failed: number;
  /** Analysed frames with at least one face. */
  readonly withFace: number;
  /** Analysed frames without a face. */
  readonly withoutFace: number;
  /** Faces over all frames. */
  readonly faces: number;
  /** Faces whose classification is an earlier frame's (`reused: true`): the classifications reuse saved. */
  readonly reusedFaces: number;
  /** withFace / analysed (0 when nothing was analysed). */
  readonly faceVisibleShare: number;
  /** Distinct track ids. */
  readonly tracks: number;
  /** Distinct persons (tracks joined by identity); 0 where identities were not computed. */
  readonly persons: number;
  /** Decoding errors ffmpeg reported in the video stream (damaged data concealed or dropped); see `warnings`. */
  readonly decodeErrors: number;
}

/** One track: a face followed from frame to frame within one shot. */
export interface TrackSummary {
  readonly trackId: number;
  /** The person the track belongs to; null where identities were not computed. */
  readonly personId: number | null;
  readonly firstTimestamp: number;
  readonly lastTimestamp: number;
  /** Sampled frames in which this track has a face. */
  readonly frames: number;
  readonly distribution: Distribution;
  readonly dominant: Dominant | null;
  /** The track's own timeline: a frame where the track is absent ends a segment. */
  readonly segments: readonly Segment[];
  /**
   * Mean detector score of the track's faces (null in whole-frame mode): how sure the detector was that this is a face.
   */
  readonly meanDetectorScore: number | null;
}

/** One person across the video: their tracks joined across cuts and gaps by face identity. */
export interface PersonSummary {
  readonly personId: number;
  readonly trackIds: readonly number[];
  readonly firstTimestamp: number;
  readonly lastTimestamp: number;
  /** Sampled frames in which the person has a face. */
  readonly frames: number;
  /** frames × the sampling interval: how long the person is on screen (s). */
  readonly screenTimeSeconds: number;
  readonly distribution: Distribution;
  readonly dominant: Dominant | null;
  /** The person's own timeline: a frame without them ends a segment. */
  readonly segments: readonly Segment[];
  readonly meanDetectorScore: number | null;
}

export interface VideoResult {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly videoId: string;
  readonly video: VideoMetadata;
  readonly model: ModelInfo;
  /** = model.labels: the order of every probability array. */
  readonly labels: readonly string[];
  readonly processing: Readonly<Record<string, unknown>>;
  readonly aggregation: { readonly smoothingWindow: number; readonly frameInterval: number };
  readonly timings: ResultTimings;
  readonly counts: ResultCounts;
  readonly dominant: Dominant | null;
  readonly distribution: Distribution;
  readonly segments: readonly Segment[];
  readonly tracks: readonly TrackSummary[];
  /**
   * Persons (tracks of one person joined by identity), in order of first appearance; empty where identities were not
   * computed.
   */
  readonly persons: readonly PersonSummary[];
  readonly frames: readonly FrameEntry[];
  /** What a reader should know about how far to trust the result (decode damage, failed frames). */
  readonly warnings: readonly string[];
  /** Scene cuts found in the frames: where one shot ends and another begins (tracks never span one). */
  readonly cuts: readonly SceneCut[];
}
