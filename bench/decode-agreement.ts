// How far a way of decoding changes what the analysis sees, against the exact sampling decode:
// the same samples' times, byte-identical frames, and face by face (each exact face against the
// other mode's face that overlaps it most) the top-1 expression and the box IoU. The bar for
// keeping a way: top-1 ≥ 99.5 % of faces, boxes IoU ≥ 0.95, and every frame at its true time.
// Used by bench:decode-modes.

import { iou } from '../src/core/box.ts';
import type { FaceResult } from '../src/core/types.ts';

export interface AnalysedFrames {
  readonly faces: readonly (readonly FaceResult[])[];
  readonly timestamps: readonly number[];
  readonly frames: readonly Buffer[];
}

export interface Agreement {
  readonly frames: number;
  readonly sameTimestamps: boolean;
  /** Samples whose pixels are the exact decode's, byte for byte (the same source frame, decoded the same). */
  readonly identicalFrames: number;
  readonly faces: number;
  readonly facesOnlyInOne: number;
  readonly top1Agreement: number;
  readonly minIou: number;
}

export function agreement(exact: AnalysedFrames, other: AnalysedFrames): Agreement {
  let compared = 0;
  let sameLabel = 0;
  let minIou = 1;
  let facesOnlyInOne = 0;
  exact.faces.forEach((exactFaces, i) => {
    const otherFaces = other.faces[i] ?? [];
    facesOnlyInOne += Math.abs(exactFaces.length - otherFaces.length);
    for (const face of exactFaces) {
      const twin = otherFaces.reduce<FaceResult | undefined>(
        (best, f) => (best === undefined || iou(f.box, face.box) > iou(best.box, face.box) ? f : best),
        undefined,
      );
      if (twin === undefined) continue;
      compared++;
      if (twin.label === face.label) sameLabel++;
      minIou = Math.min(minIou, iou(twin.box, face.box));
    }
  });
  return {
    frames: exact.faces.length,
    sameTimestamps: JSON.stringify(exact.timestamps) === JSON.stringify(other.timestamps),
    identicalFrames: exact.frames.filter((frame, i) => other.frames[i]?.equals(frame) === true).length,
    faces: compared,
    facesOnlyInOne,
    top1Agreement: compared === 0 ? 1 : sameLabel / compared,
    minIou,
  };
}
