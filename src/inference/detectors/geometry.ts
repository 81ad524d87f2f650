// Box geometry of the detectors and the crop step: overlap (from core), non-maximum suppression,
// and mapping boxes between an image and the network's input.

import { iou } from '../../core/box.ts';
import type { Box, Detection } from '../../core/types.ts';

export { iou };

/**
 * Hard non-maximum suppression: keeps the best-scoring detection and drops every other whose IoU
 * with a kept one exceeds `iouThreshold` (the reference post-processing of both detectors).
 * Returns the kept detections, best first, at most `maxKeep`.
 */
export function nms<T extends Detection>(detections: readonly T[], iouThreshold: number, maxKeep = Infinity): T[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const candidate of sorted) {
    if (kept.length >= maxKeep) break;
    if (kept.every((k) => iou(k.box, candidate.box) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/** Clamps a box to an image of the given size (may return an empty box). */
export function clampBox(box: Box, width: number, height: number): Box {
  const x1 = Math.min(Math.max(box.x, 0), width);
  const y1 = Math.min(Math.max(box.y, 0), height);
  const x2 = Math.min(Math.max(box.x + box.width, 0), width);
  const y2 = Math.min(Math.max(box.y + box.height, 0), height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** Multiplies a box's coordinates (x and width by sx, y and height by sy). */
export function scaleBox(box: Box, sx: number, sy: number): Box {
  return { x: box.x * sx, y: box.y * sy, width: box.width * sx, height: box.height * sy };
}

/**
 * How an image maps onto a network input: `scaleX`/`scaleY` multiply image pixels into input
 * pixels; `contentWidth`/`contentHeight` is the part of the input that holds the image (the rest,
 * bottom and right, is padding in letterbox mode).
 */
export interface InputMapping {
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly contentWidth: number;
  readonly contentHeight: number;
  readonly scaleX: number;
  readonly scaleY: number;
}

/** Stretch: the whole input is the image, aspect ratio not kept (UltraFace's reference). */
export function stretchMapping(
  imageWidth: number,
  imageHeight: number,
  inputWidth: number,
  inputHeight: number,
): InputMapping {
  return {
    inputWidth,
    inputHeight,
    contentWidth: inputWidth,
    contentHeight: inputHeight,
    scaleX: inputWidth / imageWidth,
    scaleY: inputHeight / imageHeight,
  };
}

/** Letterbox: scale to fit keeping the aspect ratio, pad bottom/right (YuNet's reference). */
export function letterboxMapping(
  imageWidth: number,
  imageHeight: number,
  inputWidth: number,
  inputHeight: number,
): InputMapping {
  const scale = Math.min(inputWidth / imageWidth, inputHeight / imageHeight);
  const contentWidth = Math.max(1, Math.min(inputWidth, Math.round(imageWidth * scale)));
  const contentHeight = Math.max(1, Math.min(inputHeight, Math.round(imageHeight * scale)));
  return {
    inputWidth,
    inputHeight,
    contentWidth,
    contentHeight,
    scaleX: contentWidth / imageWidth,
    scaleY: contentHeight / imageHeight,
  };
}

/**
 * For dynamic-shape inputs: the smallest input (multiples of `multiple`) holding the image scaled
 * so that its longer side is at most `maxSide` — letterboxing into it wastes little padding.
 */
export function dynamicInputSize(
  imageWidth: number,
  imageHeight: number,
  maxSide: number,
  multiple: number,
): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(imageWidth, imageHeight));
  const roundUp = (v: number) => Math.max(multiple, Math.ceil(v / multiple) * multiple);
  return { width: roundUp(imageWidth * scale), height: roundUp(imageHeight * scale) };
}
