// What any reuse gate could reach on a video, from its every-face run alone: how often the
// classifier's own top label changes between consecutive frames of the same face, how many of
// those changes are one-frame flickers (different from the frames either side), and the reuse of
// an oracle gate that knows the next label (reuses exactly when it is unchanged, K frames at most).
// Same-face links are the gate's own rule: box IoU ≥ 0.5 with a face of the previous frame.

import { iou } from '../../src/core/box.ts';
import type { FaceRow } from './run.ts';

export interface ReuseBounds {
  readonly faces: number;
  /** Consecutive-frame links of one face. */
  readonly links: number;
  /** Links whose top label differs. */
  readonly labelChanges: number;
  /** Faces whose label differs from both the previous and the next frame's. */
  readonly flickers: number;
  /** Share of faces an oracle gate with `maxReuse` reuses at 100 % agreement. */
  readonly oracleReuse: number;
}

/** Chains of one face's labels over consecutive frames (greedy best-IoU links, each face used once). */
function chains(faces: readonly FaceRow[]): string[][] {
  const byFrame = new Map<number, FaceRow[]>();
  for (const face of faces) byFrame.set(face.frame, [...(byFrame.get(face.frame) ?? []), face]);
  const out: string[][] = [];
  let previous: Array<{ face: FaceRow; chain: string[] }> = [];
  let previousFrame = Number.NaN;
  for (const frame of [...byFrame.keys()].sort((a, b) => a - b)) {
    const taken = new Set<number>();
    const current = byFrame.get(frame)!.map((face) => {
      let match = -1;
      let best = 0.5;
      if (frame === previousFrame + 1) {
        previous.forEach((p, i) => {
          const overlap = iou(p.face.box, face.box);
          if (!taken.has(i) && overlap >= best) [match, best] = [i, overlap];
        });
      }
      const chain = match >= 0 ? previous[match]!.chain : [];
      if (match >= 0) taken.add(match);
      else out.push(chain);
      chain.push(face.label);
      return { face, chain };
    });
    previous = current;
    previousFrame = frame;
  }
  return out;
}

export function reuseBounds(faces: readonly FaceRow[], maxReuse: number): ReuseBounds {
  let links = 0;
  let labelChanges = 0;
  let flickers = 0;
  let reused = 0;
  for (const chain of chains(faces)) {
    let run = 0;
    chain.forEach((label, i) => {
      if (i === 0) return;
      links += 1;
      if (label !== chain[i - 1]) labelChanges += 1;
      if (i + 1 < chain.length && label !== chain[i - 1] && label !== chain[i + 1]) flickers += 1;
      // The oracle: the label it holds is the last one classified; it reuses while that is still right.
      if (run < maxReuse && label === chain[i - 1 - run]) run += 1;
      else run = 0;
      if (run > 0) reused += 1;
    });
  }
  return { faces: faces.length, links, labelChanges, flickers, oracleReuse: faces.length ? reused / faces.length : 0 };
}
