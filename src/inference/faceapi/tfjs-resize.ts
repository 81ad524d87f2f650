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
  // Per output column: the two source columns and the weight, shared by every row.
  const col0 = new Int32Array(size);
  const col1 = new Int32Array(size);
  const colFrac = new Float64Array(size);
  for (let c = 0; c < size; c++) {
    const src = ratio * c;
    const lo = Math.max(0, Math.floor(src));
    col0[c] = lo;
    col1[c] = Math.min(side - 1, Math.ceil(src));
    colFrac[c] = src - lo;
  }
  // Pixels of the padded square: the image, or black beyond its right/bottom edge.
  const px = (row: number, col: number, ch: number): number =>
    row < height && col < width ? data[(row * width + col) * 3 + ch]! : 0;
  for (let r = 0; r < size; r++) {
    const srcRow = ratio * r;
    const top = Math.max(0, Math.floor(srcRow));
    const bottom = Math.min(side - 1, Math.ceil(srcRow));
    const rowFrac = srcRow - top;
    for (let c = 0; c < size; c++) {
      const left = col0[c]!;
      const right = col1[c]!;
      const cf = colFrac[c]!;
      for (let ch = 0; ch < 3; ch++) {
        const tl = px(top, left, ch);
        const tr = px(top, right, ch);
        const bl = px(bottom, left, ch);
        const br = px(bottom, right, ch);
        const t = tl + (tr - tl) * cf;
        const b = bl + (br - bl) * cf;
        out[offset + ch * plane + r * size + c] = t + (b - t) * rowFrac;
      }
    }
  }
}
