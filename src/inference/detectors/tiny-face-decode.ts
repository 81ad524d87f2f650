// Box decoding of face-api's tiny face detector (a TinyYolov2 with one class): 5 anchors per cell
// of a 13×13 grid (at input 416), each predicting (tx, ty, tw, th, objectness). Reproduces
// face-api's TinyYolov2Base.extractBoxes + nonMaxSuppression, including its correction for the
// bottom/right padding, so that boxes and scores match the original.

import type { Detection } from '../../core/types.ts';
import type { Tensor } from '../types.ts';

/** Anchor sizes in grid cells (face-api tinyFaceDetector/const.ts). */
export const TINY_FACE_ANCHORS: ReadonlyArray<readonly [number, number]> = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
];

/** Per-channel means (RGB) subtracted before /255 (face-api tinyFaceDetector/const.ts). */
export const TINY_FACE_MEAN_RGB = [117.001, 114.697, 97.404] as const;

export interface TinyFaceDecodeOptions {
  /** Kept when sigmoid(objectness) is strictly above this (face-api default 0.5). */
  readonly scoreThreshold: number;
  /** NMS IoU threshold (face-api: 0.4). */
  readonly iouThreshold: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Decodes image `batchIndex` of the raw head output `[N, 5·5, cells, cells]` (channel =
 * anchor·5 + k) for an image of `imageWidth`×`imageHeight` that was padded bottom/right to a square
 * and resized to `inputSize`. Boxes are in image pixels, unclipped (as face-api returns them),
 * best score first.
 */
export function decodeTinyFace(
  output: Tensor,
  batchIndex: number,
  imageWidth: number,
  imageHeight: number,
  inputSize: number,
  options: TinyFaceDecodeOptions,
): Detection[] {
  const [batch, channels, cells, cellsW] = output.dims;
  const anchors = TINY_FACE_ANCHORS.length;
  if (output.dims.length !== 4 || channels !== anchors * 5 || cells !== cellsW || batchIndex >= (batch ?? 0)) {
    throw new Error(
      `tiny face detector output has shape [${output.dims.join(',')}], expected [N,${anchors * 5},S,S] with batch index ${batchIndex}`,
    );
  }
  const n = cells!;
  const plane = n * n;
  const base = batchIndex * channels * plane;
  // The image content fills round(w·scale)×round(h·scale) of the input; face-api stretches
  // predictions relative to the input back to that content with these factors.
  const scale = inputSize / Math.max(imageWidth, imageHeight);
  const correctionX = inputSize / Math.round(imageWidth * scale);
  const correctionY = inputSize / Math.round(imageHeight * scale);
  const candidates: { x: number; y: number; w: number; h: number; score: number }[] = [];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      for (let a = 0; a < anchors; a++) {
        const at = (k: number): number => output.data[base + (a * 5 + k) * plane + row * n + col]!;
        const score = sigmoid(at(4));
        if (!(score > options.scoreThreshold)) continue;
        const cx = ((col + sigmoid(at(0))) / n) * correctionX;
        const cy = ((row + sigmoid(at(1))) / n) * correctionY;
        const w = ((Math.exp(at(2)) * TINY_FACE_ANCHORS[a]![0]) / n) * correctionX;
        const h = ((Math.exp(at(3)) * TINY_FACE_ANCHORS[a]![1]) / n) * correctionY;
        candidates.push({ x: cx - w / 2, y: cy - h / 2, w, h, score });
      }
    }
  }
  return suppress(candidates, options.iouThreshold).map((c) => ({
    box: { x: c.x * imageWidth, y: c.y * imageHeight, width: c.w * imageWidth, height: c.h * imageHeight },
    score: c.score,
  }));
}

/** face-api's hard NMS on relative boxes: best first, drop those overlapping a kept one by more than the threshold. */
function suppress<T extends { x: number; y: number; w: number; h: number; score: number }>(
  boxes: T[],
  iouThreshold: number,
): T[] {
  const order = [...boxes].sort((p, q) => q.score - p.score);
  const kept: T[] = [];
  for (const candidate of order) {
    if (kept.every((k) => overlap(k, candidate) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}

function overlap(
  p: { x: number; y: number; w: number; h: number },
  q: { x: number; y: number; w: number; h: number },
): number {
  const iw = Math.max(0, Math.min(p.x + p.w, q.x + q.w) - Math.max(p.x, q.x));
  const ih = Math.max(0, Math.min(p.y + p.h, q.y + q.h) - Math.max(p.y, q.y));
  const inter = iw * ih;
  return inter / (p.w * p.h + q.w * q.h - inter);
}
