// Classifying only what changed. Across consecutive sampled frames of one sequence (a chunk), a
// face that is where it was (box IoU with a face of the previous frame) and whose crop has not
// changed since it was last classified — a 16×16 grey thumbnail, brightness-normalised, mean
// absolute difference under a threshold — reuses that classification, for at most `maxReuse`
// frames in a row. A reuse is provisional: the face's next classification (the one that ends the
// run) must give the same label; otherwise the run is bisected — its middle face classified, each
// half held to the same rule against it — down to the faces whose ends disagree. Mouths move and
// classifiers flip on small changes; this check is what keeps reuse from reporting a label the
// model would not have given, at the price of classifying part of a run again where the label changed.
// Decisions look only at pixels and boxes, so every classification still needed is submitted at
// once and batched as before; only the re-classifications of a disproved run come later.

import { iou } from '../../core/box.ts';
import type { Box, Classification, RgbImage } from '../../core/types.ts';

export interface ReuseSettings {
  /** Sampled frames a classification may be reused for after the one it came from; 0 = off. */
  readonly maxReuse: number;
  /**
   * Largest thumbnail difference (0..1, mean absolute difference of brightness-normalised grey) that counts as
   * unchanged.
   */
  readonly threshold: number;
  /** Smallest box IoU with the previous frame's face for the same face. */
  readonly minIou: number;
}

export const REUSE_OFF: ReuseSettings = { maxReuse: 0, threshold: 0, minIou: 1 };

/**
 * The reuse settings of a configuration (FER_REUSE_MAX_FRAMES, FER_REUSE_THRESHOLD; the box must stay where it was: IoU
 * ≥ 0.5).
 */
export function reuseSettings(faces: {
  readonly reuseMaxFrames: number;
  readonly reuseThreshold: number;
}): ReuseSettings {
  return { maxReuse: faces.reuseMaxFrames, threshold: faces.reuseThreshold, minIou: 0.5 };
}

const SIDE = 16;

/**
 * A 16×16 grey thumbnail of `region` (integer box inside the frame), each cell the mean of its pixels' sampled 4×4
 * grid, minus the thumbnail's mean.
 */
export function faceThumbnail(frame: RgbImage, region: Box): Float32Array {
  const out = new Float32Array(SIDE * SIDE);
  const { data, width } = frame;
  let sum = 0;
  for (let ty = 0; ty < SIDE; ty++) {
    for (let tx = 0; tx < SIDE; tx++) {
      let cell = 0;
      for (let sy = 0; sy < 4; sy++) {
        const y = Math.min(
          region.y + region.height - 1,
          Math.floor(region.y + ((ty * 4 + sy + 0.5) * region.height) / (SIDE * 4)),
        );
        for (let sx = 0; sx < 4; sx++) {
          const x = Math.min(
            region.x + region.width - 1,
            Math.floor(region.x + ((tx * 4 + sx + 0.5) * region.width) / (SIDE * 4)),
          );
          const p = (y * width + x) * 3;
          cell += 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
        }
      }
      out[ty * SIDE + tx] = cell / 16;
      sum += cell / 16;
    }
  }
  const mean = sum / out.length;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! - mean;
  return out;
}

/** Mean absolute difference of two thumbnails, in 0..1 of the grey range. */
export function thumbnailDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length / 255;
}

/** What a face ends up with: its own classification, or an earlier frame's that its run's end confirmed. */
export interface GatedOutcome {
  readonly classification: Classification;
  /** True when the classification is the one of an earlier frame's face. */
  readonly reused: boolean;
}

/** One face of a frame, as the gate saw it. */
export interface GatedFace {
  readonly box: Box;
  readonly outcome: Promise<GatedOutcome>;
}

type Classify = () => Promise<Classification>;

/** A reused face waiting for its run's end to confirm or disprove the reuse. */
interface Provisional {
  readonly classify: Classify;
  readonly settle: (outcome: Promise<GatedOutcome>) => void;
}

/** A classification and the faces of later frames reusing it. */
interface Run {
  /** Box of the run's latest face (the next frame's face is matched against it). */
  readonly box: Box;
  /** Thumbnail of the frame the classification came from. */
  readonly thumbnail: Float32Array;
  readonly classification: Promise<Classification>;
  readonly provisional: Provisional[];
}

/** A synchronous throw (a crop that cannot be cut) as a rejection, so that no run is left unsettled. */
function attempt(classify: Classify): Promise<Classification> {
  try {
    return classify();
  } catch (error) {
    return Promise.reject(error);
  }
}

const own = (classification: Promise<Classification>): Promise<GatedOutcome> =>
  classification.then((c) => ({ classification: c, reused: false }));

/**
 * Walks the frames of one sequence in order. `next` is told each frame's faces (box and crop
 * region) and returns, per face, an outcome: an earlier face's classification or one from
 * `classify` (called at once, so the calls of a whole sequence batch together). `finish` ends the
 * sequence: until it is called, the faces of runs still open stay unsettled.
 */
export class ReuseGate {
  private previous: Run[] = [];

  constructor(private readonly settings: ReuseSettings) {}

  next(
    frame: RgbImage,
    faces: ReadonlyArray<{ box: Box; crop: Box }>,
    classify: (crop: Box) => Promise<Classification>,
  ): GatedFace[] {
    const { maxReuse, threshold, minIou } = this.settings;
    if (maxReuse === 0) return faces.map((face) => ({ box: face.box, outcome: own(classify(face.crop)) }));
    const taken = new Set<Run>();
    const current: Run[] = [];
    const gated = faces.map((face): GatedFace => {
      let match: Run | undefined;
      let best = minIou;
      for (const candidate of this.previous) {
        const overlap = iou(candidate.box, face.box);
        if (!taken.has(candidate) && overlap >= best) [match, best] = [candidate, overlap];
      }
      if (match) taken.add(match);
      const thumbnail = faceThumbnail(frame, face.crop);
      if (match && match.provisional.length < maxReuse && thumbnailDistance(thumbnail, match.thumbnail) <= threshold) {
        const outcome = new Promise<GatedOutcome>((settle) =>
          match.provisional.push({ classify: () => attempt(() => classify(face.crop)), settle }),
        );
        outcome.catch(() => undefined); // awaited by the frame; a frame abandoned mid-way must not leave it unhandled
        current.push({ ...match, box: face.box });
        return { box: face.box, outcome };
      }
      const classification = classify(face.crop);
      // A rejection is the frame's own failure (awaited there); a run reusing it fails too.
      classification.catch(() => undefined);
      if (match) settleRun(match, classification);
      current.push({ box: face.box, thumbnail, classification, provisional: [] });
      return { box: face.box, outcome: own(classification) };
    });
    // Faces that left: their runs end without a classification after them.
    for (const run of this.previous) if (!taken.has(run)) closeRun(run);
    this.previous = current;
    return gated;
  }

  /**
   * Ends the sequence (or a stretch of it: a frame whose detection failed): every open run is settled, and the next
   * frame starts afresh.
   */
  finish(): void {
    for (const run of this.previous) closeRun(run);
    this.previous = [];
  }
}

/** A run with no classification after it: its last face is classified, and that ends the run. */
function closeRun(run: Run): void {
  const last = run.provisional.pop();
  if (!last) return;
  const classification = last.classify();
  last.settle(own(classification));
  settleRun(run, classification);
}

/** Confirms the run's reuses when `end` gives the run's label; otherwise bisects the run (backfill). */
function settleRun(run: Run, end: Promise<Classification>): void {
  const { provisional } = run;
  if (provisional.length === 0) return;
  void Promise.allSettled([run.classification, end]).then(([start, finish]) => {
    if (start.status === 'rejected') for (const face of provisional) face.settle(Promise.reject(start.reason));
    else backfill(provisional, start.value, finish.status === 'fulfilled' ? finish.value : undefined);
  });
}

/**
 * The faces between two classifications of a face: they reuse `start` when `end` gives its label
 * (the rule every run is held to); otherwise the middle face is classified and each half is
 * settled the same way against it, so a run whose label changed once costs about log2(n)
 * classifications instead of n. With no `end` (it failed) every face is classified.
 */
function backfill(faces: readonly Provisional[], start: Classification, end: Classification | undefined): void {
  if (faces.length === 0) return;
  if (end?.label === start.label) {
    for (const face of faces) face.settle(Promise.resolve({ classification: start, reused: true }));
    return;
  }
  if (end === undefined) {
    for (const face of faces) face.settle(own(face.classify()));
    return;
  }
  const middle = Math.floor(faces.length / 2);
  const classification = faces[middle]!.classify();
  faces[middle]!.settle(own(classification));
  const [before, after] = [faces.slice(0, middle), faces.slice(middle + 1)];
  classification.then(
    (found) => {
      backfill(before, start, found);
      backfill(after, found, end);
    },
    // The middle face failed: nothing to hold the halves to, so each face is classified.
    () => backfill([...before, ...after], start, undefined),
  );
}
