// What every family's decoder shares (families/*/decode.ts): the options, finding an output by
// name, and the common finish — clamp to the image, drop tiny faces, NMS and the face limit.

import type { Detection } from '../../core/types.ts';
import type { Tensor } from '../types.ts';
import { clampBox, nms } from './geometry.ts';

export interface DecodeOptions {
  readonly scoreThreshold: number;
  readonly nmsIou: number;
  /** Faces whose shorter side is below this many image pixels are dropped. */
  readonly minFaceSize: number;
  readonly maxFaces: number;
}

/** Image size the mapping was built for, so boxes can be clamped to it. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

export function requireOutput(outputs: Readonly<Record<string, Tensor>>, name: string): Tensor {
  const t = outputs[name];
  if (t === undefined)
    throw new Error(`detector output "${name}" missing (got ${Object.keys(outputs).join(', ') || 'none'})`);
  return t;
}

/** Score threshold first (cheap, removes almost all anchors), NMS, then size and count limits. */
export function finishDetections(candidates: Detection[], image: ImageSize, options: DecodeOptions): Detection[] {
  const clamped = candidates
    .map((d) => ({ ...d, box: clampBox(d.box, image.width, image.height) }))
    .filter((d) => Math.min(d.box.width, d.box.height) >= Math.max(options.minFaceSize, 1e-6));
  return nms(clamped, options.nmsIou, options.maxFaces);
}
