// Face crops for the classifier: FER models are trained on roughly square crops that show the
// whole face with a little context, so each detected box is grown by a margin, made square around
// its centre, kept inside the frame, and cut from the frame at its full working resolution (the
// classifier's own preprocessing resizes it).

import type { Box, Detection, RgbImage } from '../../core/types.ts';

/**
 * The square crop region of a face box: every side grows by `margin` × the box's longer side,
 * the shorter dimension grows to a square, then the square is moved (not shrunk) to lie inside the
 * frame; only a square larger than the frame is clipped. Integer pixel coordinates, at least 1×1.
 */
export function faceCropBox(box: Box, frameWidth: number, frameHeight: number, margin: number): Box {
  const longer = Math.max(box.width, box.height);
  const side = Math.max(1, Math.round(longer * (1 + 2 * margin)));
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const place = (centre: number, size: number, limit: number): [number, number] => {
    const length = Math.min(size, limit);
    const start = Math.round(centre - length / 2);
    return [Math.min(Math.max(start, 0), limit - length), length];
  };
  const [x, width] = place(cx, side, frameWidth);
  const [y, height] = place(cy, side, frameHeight);
  return { x, y, width, height };
}

/** Copies a region (integer coordinates, inside the frame) out of an RGB frame. */
export function cropRgb(frame: RgbImage, region: Box): RgbImage {
  const { x, y, width, height } = region;
  if (
    !Number.isInteger(x) ||
    !Number.isInteger(y) ||
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1
  ) {
    throw new RangeError(`crop region ${JSON.stringify(region)} must have integer coordinates and a positive size`);
  }
  if (x < 0 || y < 0 || x + width > frame.width || y + height > frame.height) {
    throw new RangeError(`crop region ${JSON.stringify(region)} is outside the ${frame.width}x${frame.height} frame`);
  }
  const out = new Uint8Array(width * height * 3);
  const rowBytes = width * 3;
  for (let row = 0; row < height; row++) {
    const start = ((y + row) * frame.width + x) * 3;
    out.set(frame.data.subarray(start, start + rowBytes), row * rowBytes);
  }
  return { data: out, width, height };
}

/**
 * The crop face-api's recognition net expects (its FaceLandmarks.alignDlib rule): a square of side
 * (mean eye-to-mouth distance) / 0.45, centred across the eyes and mouth at 50 % across and 43 %
 * down. Needs the detector's eyes and mouth (YuNet: mouth corners; BlazeFace: mouth centre);
 * without keypoints, the detection box squared. Clipped to the frame (preprocessing pads it back
 * to a square), integer pixels.
 */
export function identityCropBox(detection: Detection, frameWidth: number, frameHeight: number): Box {
  const points = detection.landmarks;
  if (points === undefined || points.length < 5) return faceCropBox(detection.box, frameWidth, frameHeight, 0);
  const [right, left] = [points[0]!, points[1]!];
  const mouth: readonly [number, number] =
    points.length === 6 ? points[3]! : [(points[3]![0] + points[4]![0]) / 2, (points[3]![1] + points[4]![1]) / 2];
  const eyeToMouth =
    (Math.hypot(mouth[0] - right[0], mouth[1] - right[1]) + Math.hypot(mouth[0] - left[0], mouth[1] - left[1])) / 2;
  const side = Math.max(2, eyeToMouth / 0.45);
  const cx = (right[0] + left[0] + mouth[0]) / 3;
  const cy = (right[1] + left[1] + mouth[1]) / 3;
  const x1 = Math.max(0, Math.round(cx - 0.5 * side));
  const y1 = Math.max(0, Math.round(cy - 0.43 * side));
  const x2 = Math.min(frameWidth, Math.round(cx + 0.5 * side));
  const y2 = Math.min(frameHeight, Math.round(cy + 0.57 * side));
  if (x2 - x1 < 1 || y2 - y1 < 1) return faceCropBox(detection.box, frameWidth, frameHeight, 0);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}
