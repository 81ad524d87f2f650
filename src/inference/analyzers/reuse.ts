// Classifying only what changed. Across consecutive sampled frames of one video, a face that is
// where it was (box IoU with a face of the previous frame) and whose crop has not changed since it
// was last classified — a 16×16 grey thumbnail, brightness-normalised, mean absolute difference
// under a threshold — reuses that classification, for at most `maxReuse` frames in a row; then it
// is classified again. The decision looks only at pixels and boxes, never at the classifier, so
// every classification still needed is submitted at once and batched as before.

import { iou } from '../../core/box.ts';
import type { Box, Classification, RgbImage } from '../../core/types.ts';

export interface ReuseSettings {
  /** Sampled frames a classification may be reused for after the one it came from; 0 = off. */
  readonly maxReuse: number;
  /** Largest thumbnail difference (0..1, mean absolute difference of brightness-normalised grey) that counts as unchanged. */
  readonly threshold: number;
  /** Smallest box IoU with the previous frame's face for the same face. */
  readonly minIou: number;
}

export const REUSE_OFF: ReuseSettings = { maxReuse: 0, threshold: 0, minIou: 1 };

/** The reuse settings of a configuration (FER_REUSE_MAX_FRAMES, FER_REUSE_THRESHOLD; the box must stay where it was: IoU ≥ 0.5). */
export function reuseSettings(faces: { readonly reuseMaxFrames: number; readonly reuseThreshold: number }): ReuseSettings {
  return { maxReuse: faces.reuseMaxFrames, threshold: faces.reuseThreshold, minIou: 0.5 };
}

const SIDE = 16;

/** A 16×16 grey thumbnail of `region` (integer box inside the frame), each cell the mean of its pixels' sampled 4×4 grid, minus the thumbnail's mean. */
export function faceThumbnail(frame: RgbImage, region: Box): Float32Array {
  const out = new Float32Array(SIDE * SIDE);
  const { data, width } = frame;
  let sum = 0;
  for (let ty = 0; ty < SIDE; ty++) {
    for (let tx = 0; tx < SIDE; tx++) {
      let cell = 0;
      for (let sy = 0; sy < 4; sy++) {
        const y = Math.min(region.y + region.height - 1, Math.floor(region.y + ((ty * 4 + sy + 0.5) * region.height) / (SIDE * 4)));
        for (let sx = 0; sx < 4; sx++) {
          const x = Math.min(region.x + region.width - 1, Math.floor(region.x + ((tx * 4 + sx + 0.5) * region.width) / (SIDE * 4)));
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

/** One face of a frame, as the gate saw it. */
export interface GatedFace {
  readonly box: Box;
  readonly classification: Promise<Classification>;
  /** True when the classification is the one of an earlier frame's face. */
  readonly reused: boolean;
}

interface Reference {
  readonly box: Box;
  /** Thumbnail of the frame the classification came from. */
  readonly thumbnail: Float32Array;
  readonly classification: Promise<Classification>;
  readonly reuses: number;
}

/**
 * Walks the frames of one video in order. `next` is told each frame's faces (box and crop region)
 * and returns, per face, a classification: reused from the previous frame's matching face, or from
 * `classify` (called at once, so the calls of a whole chunk batch together).
 */
export class ReuseGate {
  private previous: Reference[] = [];

  constructor(private readonly settings: ReuseSettings) {}

  /** Forgets the previous frame (its detection failed, or a new video starts). */
  reset(): void {
    this.previous = [];
  }

  next(frame: RgbImage, faces: ReadonlyArray<{ box: Box; crop: Box }>, classify: (crop: Box) => Promise<Classification>): GatedFace[] {
    const { maxReuse, threshold, minIou } = this.settings;
    const taken = new Set<Reference>();
    const current: Reference[] = [];
    const gated = faces.map((face): GatedFace => {
      if (maxReuse === 0) return { box: face.box, classification: classify(face.crop), reused: false };
      let match: Reference | undefined;
      let best = minIou;
      for (const candidate of this.previous) {
        const overlap = iou(candidate.box, face.box);
        if (!taken.has(candidate) && overlap >= best) [match, best] = [candidate, overlap];
      }
      if (match) taken.add(match);
      const thumbnail = faceThumbnail(frame, face.crop);
      if (match && match.reuses < maxReuse && thumbnailDistance(thumbnail, match.thumbnail) <= threshold) {
        current.push({ box: face.box, thumbnail: match.thumbnail, classification: match.classification, reuses: match.reuses + 1 });
        return { box: face.box, classification: match.classification, reused: true };
      }
      return this.fresh(current, face, thumbnail, classify);
    });
    this.previous = current;
    return gated;
  }

  private fresh(current: Reference[], face: { box: Box; crop: Box }, thumbnail: Float32Array, classify: (crop: Box) => Promise<Classification>): GatedFace {
    const classification = classify(face.crop);
    // A rejection is the frame's own failure (awaited there); a later frame reusing it fails too.
    classification.catch(() => undefined);
    current.push({ box: face.box, thumbnail, classification, reuses: 0 });
    return { box: face.box, classification, reused: false };
  }
}
