// Matching detections to true faces as face-detection benchmarks do: detections in descending
// score order each take the unmatched true face they overlap most (IoU ≥ the bar). A face cut by
// the photo's edge (`truncated`) is "don't care" (WIDER FACE's ignore regions): a detection on it
// is not false, and missing it is not a miss.

import { iou } from '../../../src/core/box.ts';
import type { Detection } from '../../../src/core/types.ts';
import type { TrueFace } from './scenes.ts';

export interface FaceMatch {
  /** Indexes into the true faces: found, and missed (truncated ones never count as missed). */
  readonly found: readonly number[];
  readonly missed: readonly number[];
  /** Detections that matched no true face. */
  readonly falseDetections: readonly Detection[];
  /** [detection index, true face index] of every match. */
  readonly pairs: ReadonlyArray<readonly [number, number]>;
}

export function matchFaces(detections: readonly Detection[], faces: readonly TrueFace[], minIou = 0.5): FaceMatch {
  const taken = new Set<number>();
  const falseDetections: Detection[] = [];
  const pairs: Array<[number, number]> = [];
  const order = detections.map((_, i) => i).sort((a, b) => detections[b]!.score - detections[a]!.score);
  for (const d of order) {
    const detection = detections[d]!;
    let best = -1;
    let bestIou = minIou;
    faces.forEach((face, i) => {
      if (taken.has(i)) return;
      const overlap = iou(detection.box, face.box);
      if (overlap >= bestIou) {
        best = i;
        bestIou = overlap;
      }
    });
    if (best < 0) {
      falseDetections.push(detection);
    } else {
      taken.add(best);
      pairs.push([d, best]);
    }
  }
  const real = faces.map((_, i) => i).filter((i) => !faces[i]!.truncated);
  return { found: real.filter((i) => taken.has(i)), missed: real.filter((i) => !taken.has(i)), falseDetections, pairs };
}
