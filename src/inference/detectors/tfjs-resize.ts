// face-api's input preparation for its detector, reproduced exactly so that our ONNX detector sees
// the same numbers as the original: pad the image with black at the bottom or right to a square
// (not centred, `toBatchTensor(size, false)`), then tfjs `resizeBilinear` with
// alignCorners=false and halfPixelCenters=false (source coordinate = output index × in/out, no
// antialiasing). Raw 0..255 values; the mean subtraction and /255 live in the ONNX graph.

import type { RgbImage } from '../../core/types.ts';

/**
 * Writes the padded, resized image as planar float32 RGB (CHW, 3·size·size values) into `out` at
 * `offset` — one image of an NCHW batch.
 */
export function padBottomRightAndResize(image: RgbImage, size: number, out: Float32Array, offset = 0): void {
  const { data, width, height } = image;
  const side = Math.max(width, height);
  const ratio = side / size;
  const plane = size * size;
  // Per output column: byte offsets of the two source columns within a row (-1 = padding, black)
  // and the weight; shared by every row. Same arithmetic as tfjs (source = ratio × index).
  const leftOff = new Int32Array(size);
  const rightOff = new Int32Array(size);
  const colFrac = new Float64Array(size);
  for (let c = 0; c < size; c++) {
    const src = ratio * c;
    const lo = Math.max(0, Math.floor(src));
    const hi = Math.min(side - 1, Math.ceil(src));
    leftOff[c] = lo < width ? lo * 3 : -1;
    rightOff[c] = hi < width ? hi * 3 : -1;
    colFrac[c] = src - lo;
  }
  const rOut = offset;
  const gOut = offset + plane;
  const bOut = offset + 2 * plane;
  for (let r = 0; r < size; r++) {
    const srcRow = ratio * r;
    const top = Math.max(0, Math.floor(srcRow));
    const bottom = Math.min(side - 1, Math.ceil(srcRow));
    const rowFrac = srcRow - top;
    const topBase = top < height ? top * width * 3 : -1;
    const bottomBase = bottom < height ? bottom * width * 3 : -1;
    const rowOut = r * size;
    for (let c = 0; c < size; c++) {
      const l = leftOff[c]!;
      const rt = rightOff[c]!;
      const cf = colFrac[c]!;
      const tl = topBase >= 0 && l >= 0 ? topBase + l : -1;
      const tr = topBase >= 0 && rt >= 0 ? topBase + rt : -1;
      const bl = bottomBase >= 0 && l >= 0 ? bottomBase + l : -1;
      const br = bottomBase >= 0 && rt >= 0 ? bottomBase + rt : -1;
      const o = rowOut + c;
      out[rOut + o] = bilinear(data, tl, tr, bl, br, 0, cf, rowFrac);
      out[gOut + o] = bilinear(data, tl, tr, bl, br, 1, cf, rowFrac);
      out[bOut + o] = bilinear(data, tl, tr, bl, br, 2, cf, rowFrac);
    }
  }
}

/**
 * tfjs's interpolation order: along the row first (top, bottom), then between the rows. Offsets < 0 are padding (0).
 */
function bilinear(
  data: Uint8Array,
  tl: number,
  tr: number,
  bl: number,
  br: number,
  ch: number,
  colFrac: number,
  rowFrac: number,
): number {
  const vtl = tl >= 0 ? data[tl + ch]! : 0;
  const vtr = tr >= 0 ? data[tr + ch]! : 0;
  const vbl = bl >= 0 ? data[bl + ch]! : 0;
  const vbr = br >= 0 ? data[br + ch]! : 0;
  const t = vtl + (vtr - vtl) * colFrac;
  const b = vbl + (vbr - vbl) * colFrac;
  return t + (b - t) * rowFrac;
}
