// Links the faces of a video's sampled frames into tracks (one per person), so the per-video
// result can give each person a timeline.
//
// Choice: greedy IoU matching against each live track's last box, with a gap tolerance.
// - IoU needs nothing but the boxes we already have: no appearance embeddings (another network per
//   face), deterministic, and cheap for the handful of faces a frame holds.
// - Sampled frames are typically 1–5 per second apart, and a face rarely moves more than a fraction
//   of its own size in that time, so the same face overlaps itself strongly between samples while
//   two different faces almost never overlap (a detector's NMS already keeps boxes apart).
// - Greedy (best IoU pair first) equals optimal assignment whenever faces do not overlap each
//   other, which is the normal case; a Hungarian solver would buy nothing there.
// - Gap tolerance: a detector misses a face now and then (a blink, a turned head, motion blur); a
//   track waits `maxGap` sampled frames for its face before it ends, so one miss does not split a
//   person in two. Failed frames count as frames in which nothing was seen.
// - Tracks are people: a scene cut (src/results/scenes.ts) ends every track, and a face continues
//   a track only if its colours (the face's histogram, core/colour-signature.ts) are close to the
//   track's last face — two different people at the same place are not joined.
// - Motion: each track predicts where its face is now from its last displacement (constant
//   velocity, as SORT's Kalman filter does in its simplest form), so two faces crossing keep their
//   ids and a face missed for a frame or two is found where it went.
// - Re-identification: a track whose face is gone for longer than `maxGap` is kept, for
//   `reidentifyWithin` sampled frames of the same scene, and a new face that looks like it (same
//   appearance bar, similar size) resumes it: a person who steps out and back keeps one id.
// Known limits (bench:tracks): faces that cross while one hides the other for longer than the gap
// may still swap; the appearance is colours and an 8×8 structure, not an identity embedding.

import { iou } from '../core/box.ts';
import { appearanceDistance } from '../core/face-appearance.ts';
import { assignPersons, type PersonOptions } from './persons.ts';
import type { Box, FaceResult, FrameResult } from '../core/types.ts';

export interface TrackerOptions {
  /** Least IoU between a face and a track's last box for the face to continue that track. */
  readonly iouThreshold: number;
  /** Sampled frames a track may go without its face and still continue. */
  readonly maxGap: number;
  /**
   * Largest appearance distance (0..2, core/face-appearance.ts) between a face and its track's last face to continue
   * it; absent: no appearance check.
   */
  readonly maxAppearanceDistance?: number;
  /**
   * Sampled frames after its end (same scene) during which a track can be resumed by a face that looks like it; 0 or
   * absent: never.
   */
  readonly reidentifyWithin?: number;
  /**
   * Match faces against where each track is heading (default true); false: against its last box only (bench:tracks'
   * baseline).
   */
  readonly predictMotion?: boolean;
  /** Then join the tracks of one person (persons.ts) by their faces' identity descriptors; absent: no persons. */
  readonly persons?: PersonOptions;
}

/** What the aggregation knows of the video besides its frames. */
export interface TrackingContext {
  /** Indexes of frames that begin a new scene: every track ends before them. */
  readonly cutIndexes?: ReadonlySet<number>;
}

interface LiveTrack {
  readonly id: number;
  box: Box;
  lastIndex: number;
  appearance: readonly number[] | undefined;
  /** Displacement of the box's corner per sampled frame, from its last two sightings. */
  velocity: { x: number; y: number };
}

/** Where the track's face should be at `index`, moving as it last moved. */
function predicted(track: LiveTrack, index: number): Box {
  const steps = index - track.lastIndex;
  return { ...track.box, x: track.box.x + track.velocity.x * steps, y: track.box.y + track.velocity.y * steps };
}

/**
 * Returns the frames (sorted by index) with a `trackId` on every face; ids are 1, 2, … in order of
 * first appearance (left to right within a frame). Input frames are not modified.
 */
export function assignTracks(
  frames: readonly FrameResult[],
  options: TrackerOptions,
  context: TrackingContext = {},
): FrameResult[] {
  if (!(options.iouThreshold >= 0 && options.iouThreshold <= 1))
    throw new RangeError(`tracker iouThreshold must be in 0..1, got ${options.iouThreshold}`);
  if (!Number.isInteger(options.maxGap) || options.maxGap < 0)
    throw new RangeError(`tracker maxGap must be an integer ≥ 0, got ${options.maxGap}`);
  const reidentifyWithin = options.reidentifyWithin ?? 0;
  const sorted = [...frames].sort((a, b) => a.index - b.index);
  let live: LiveTrack[] = [];
  // Ended tracks that may still be resumed by appearance (this scene only).
  let ended: LiveTrack[] = [];
  let nextId = 1;
  return sorted.map((frame) => {
    // Tracks whose face has been missing for more than maxGap sampled frames are over.
    const gone = (t: LiveTrack) => frame.index - t.lastIndex - 1 > options.maxGap;
    ended.push(...live.filter(gone));
    live = live.filter((t) => !gone(t));
    ended = ended.filter((t) => frame.index - t.lastIndex - 1 <= options.maxGap + reidentifyWithin);
    // A new scene: nobody carries over.
    if (context.cutIndexes?.has(frame.index)) {
      live = [];
      ended = [];
    }
    if (frame.faces.length === 0) return frame;

    const pairs: Array<{ face: number; track: LiveTrack; overlap: number }> = [];
    frame.faces.forEach((face, f) => {
      for (const track of live) {
        const overlap =
          options.predictMotion === false
            ? iou(face.box, track.box)
            : Math.max(iou(face.box, predicted(track, frame.index)), iou(face.box, track.box));
        if (!(overlap >= options.iouThreshold && overlap > 0)) continue;
        if (!looksAlike(face.appearance, track.appearance, options.maxAppearanceDistance)) continue;
        pairs.push({ face: f, track, overlap });
      }
    });
    // Best overlaps first; ties broken by the older track, for determinism.
    pairs.sort((a, b) => b.overlap - a.overlap || a.track.id - b.track.id);
    const assigned = new Map<number, LiveTrack>();
    const taken = new Set<number>();
    for (const p of pairs) {
      if (assigned.has(p.face) || taken.has(p.track.id)) continue;
      assigned.set(p.face, p.track);
      taken.add(p.track.id);
    }
    // Faces left over: an ended track that looks like the face resumes; otherwise a new id, left to right.
    const order = frame.faces
      .map((face, f) => ({ face, f }))
      .sort((a, b) => a.face.box.x - b.face.box.x || a.face.box.y - b.face.box.y);
    for (const { face, f } of order) {
      if (assigned.has(f)) continue;
      const resumed = reidentify(face, ended, options.maxAppearanceDistance);
      if (resumed) {
        ended = ended.filter((t) => t !== resumed);
        resumed.velocity = { x: 0, y: 0 };
        live.push(resumed);
        assigned.set(f, resumed);
        continue;
      }
      const track: LiveTrack = {
        id: nextId++,
        box: face.box,
        lastIndex: frame.index,
        appearance: face.appearance,
        velocity: { x: 0, y: 0 },
      };
      live.push(track);
      assigned.set(f, track);
    }
    const faces: FaceResult[] = frame.faces.map((face, f) => {
      const track = assigned.get(f)!;
      const steps = frame.index - track.lastIndex;
      if (steps > 0) track.velocity = { x: (face.box.x - track.box.x) / steps, y: (face.box.y - track.box.y) / steps };
      track.box = face.box;
      track.lastIndex = frame.index;
      track.appearance = face.appearance ?? track.appearance;
      return { ...face, trackId: track.id };
    });
    return { ...frame, faces };
  });
}

/** The ended track the face most looks like, if it passes the appearance bar and has about the face's size. */
function reidentify(
  face: FaceResult,
  ended: readonly LiveTrack[],
  maxDistance: number | undefined,
): LiveTrack | undefined {
  if (maxDistance === undefined || face.appearance === undefined) return undefined;
  let best: LiveTrack | undefined;
  let bestDistance = maxDistance;
  for (const track of ended) {
    if (track.appearance === undefined) continue;
    const ratio = face.box.width / track.box.width;
    if (ratio < 2 / 3 || ratio > 3 / 2) continue;
    const distance = appearanceDistance(face.appearance, track.appearance);
    if (distance <= bestDistance) {
      best = track;
      bestDistance = distance;
    }
  }
  return best;
}

function looksAlike(
  a: readonly number[] | undefined,
  b: readonly number[] | undefined,
  maxDistance: number | undefined,
): boolean {
  if (maxDistance === undefined || a === undefined || b === undefined) return true;
  return appearanceDistance(a, b) <= maxDistance;
}

/** `assignTracks` bound to options, in the shape buildVideoResult's `assignTracks` hook takes. */
export function faceTracker(
  options: TrackerOptions,
): (frames: readonly FrameResult[], context?: TrackingContext) => FrameResult[] {
  return (frames, context) => {
    const tracked = assignTracks(frames, options, context);
    return options.persons ? assignPersons(tracked, options.persons) : tracked;
  };
}
