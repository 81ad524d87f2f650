// Scoring detections against true faces (matching: test/helpers/face-truth/match.ts): a match is a
// true positive, a detection matching nothing a false face, a true face left unmatched a miss.

import type { Detection } from '../../src/core/types.ts';
import { matchFaces } from '../../test/helpers/face-truth/match.ts';
import type { Scene } from '../../test/helpers/face-truth/scenes.ts';

/** Face widths (frame pixels) where recall is also reported separately. */
export const SIZE_BUCKETS = [
  { label: 'small', min: 0, max: 40 },
  { label: 'medium', min: 40, max: 100 },
  { label: 'large', min: 100, max: Infinity },
] as const;

export interface Counts {
  truePositives: number;
  falsePositives: number;
  misses: number;
  /** True positives and misses per SIZE_BUCKETS entry. */
  readonly bySize: Array<{ found: number; total: number }>;
}

export const emptyCounts = (): Counts => ({
  truePositives: 0,
  falsePositives: 0,
  misses: 0,
  bySize: SIZE_BUCKETS.map(() => ({ found: 0, total: 0 })),
});

/** Adds one frame's outcome at `threshold` to `counts`. */
export function scoreFrame(
  counts: Counts,
  detections: readonly Detection[],
  scene: Scene,
  threshold: number,
  minIou: number,
): void {
  const match = matchFaces(
    detections.filter((d) => d.score >= threshold),
    scene.faces,
    minIou,
  );
  counts.falsePositives += match.falseDetections.length;
  counts.truePositives += match.found.length;
  counts.misses += match.missed.length;
  const bucket = (i: number) =>
    counts.bySize[
      SIZE_BUCKETS.findIndex((b) => scene.faces[i]!.box.width >= b.min && scene.faces[i]!.box.width < b.max)
    ]!;
  for (const i of match.found) {
    bucket(i).found++;
    bucket(i).total++;
  }
  for (const i of match.missed) bucket(i).total++;
}

export interface ThresholdRow {
  readonly threshold: number;
  /** Over the frames with faces (composites and photos), IoU ≥ 0.5. */
  readonly recall: number;
  readonly precision: number;
  readonly recallBySize: readonly number[];
  /**
   * Recall with a looser IoU ≥ 0.3: shows where boxes are drawn differently (e.g. BlazeFace's squares) rather than
   * faces missed.
   */
  readonly recallLoose: number;
  /** Detections on the no-face frames (generated pictures, scenery), per 100 frames. */
  readonly falsePer100: number;
  /** Detections on the clutter frames (paintings, photographs, animals, posters, cloth), per 100 frames. */
  readonly clutterFalsePer100: number;
  /** The photos alone: faces found of faces there. */
  readonly photoFaces: { readonly found: number; readonly total: number };
}

export interface SceneDetections {
  readonly scene: Scene;
  readonly detections: readonly Detection[];
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function scoreThreshold(results: readonly SceneDetections[], threshold: number): ThresholdRow {
  const withFaces = emptyCounts();
  const loose = emptyCounts();
  const noFace = emptyCounts();
  const clutter = emptyCounts();
  const photos = emptyCounts();
  let noFaceFrames = 0;
  let clutterFrames = 0;
  for (const { scene, detections } of results) {
    if (scene.kind === 'no-face') {
      noFaceFrames++;
      scoreFrame(noFace, detections, scene, threshold, 0.5);
      continue;
    }
    if (scene.kind === 'clutter') {
      clutterFrames++;
      scoreFrame(clutter, detections, scene, threshold, 0.5);
      continue;
    }
    scoreFrame(withFaces, detections, scene, threshold, 0.5);
    scoreFrame(loose, detections, scene, threshold, 0.3);
    if (scene.kind === 'photo') scoreFrame(photos, detections, scene, threshold, 0.5);
  }
  return {
    threshold,
    recall: ratio(withFaces.truePositives, withFaces.truePositives + withFaces.misses),
    precision: ratio(withFaces.truePositives, withFaces.truePositives + withFaces.falsePositives),
    recallBySize: withFaces.bySize.map((b) => ratio(b.found, b.total)),
    recallLoose: ratio(loose.truePositives, loose.truePositives + loose.misses),
    falsePer100: ratio(noFace.falsePositives * 100, noFaceFrames),
    clutterFalsePer100: ratio(clutter.falsePositives * 100, clutterFrames),
    photoFaces: { found: photos.truePositives, total: photos.truePositives + photos.misses },
  };
}

export interface Candidate {
  readonly label: string;
  readonly row: ThresholdRow;
  readonly cpuMsPerFrame: number;
}

/**
 * The bars a default must clear: false faces where there is no face (plain or cluttered), and false faces beside true
 * ones (e.g. on hair, a painting).
 */
export const DEFAULT_RULE = { maxFalsePer100: 1, minPrecision: 0.99 } as const;

/**
 * The rule for defaults: among candidates with at most 1 false face per 100 no-face frames, at
 * most 1 per 100 cluttered no-face frames and at least 99 % precision, the best recall. Between
 * detectors (`recallTie` above 0), recall within the tie of the best counts as equal (1 point is
 * about two faces of the benchmark's 275, less than it can tell apart) and so does CPU within
 * 10 % (run-to-run noise): the cheapest wins, then the
 * more precise, then the lower threshold, then the earlier in the list. For one detector's
 * threshold the tie is 0: recall decides, then precision.
 */
export function chooseByRule<T extends Candidate>(candidates: readonly T[], recallTie = 0): T | undefined {
  const eligible = candidates.filter(
    (c) =>
      c.row.falsePer100 <= DEFAULT_RULE.maxFalsePer100 &&
      c.row.clutterFalsePer100 <= DEFAULT_RULE.maxFalsePer100 &&
      c.row.precision >= DEFAULT_RULE.minPrecision,
  );
  const bestRecall = Math.max(...eligible.map((c) => c.row.recall));
  let tied = eligible.filter((c) => c.row.recall >= bestRecall - recallTie - 1e-9);
  if (recallTie > 0) {
    const cheapest = Math.min(...tied.map((c) => c.cpuMsPerFrame));
    tied = tied.filter((c) => c.cpuMsPerFrame <= cheapest * 1.1);
  } else {
    tied = tied.filter((c) => c.row.recall === bestRecall);
  }
  return [...tied].sort((a, b) => b.row.precision - a.row.precision || a.row.threshold - b.row.threshold)[0];
}
