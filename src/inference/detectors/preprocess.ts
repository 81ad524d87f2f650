// Detector input tensors from raw RGB frames: resize (stretch or letterbox) with sharp, then
// channel order and per-channel normalisation into NCHW (or NHWC) float32, as each detector was trained.

import sharp from 'sharp';
import type { RgbImage } from '../../core/types.ts';
import type { InputMapping } from './geometry.ts';

export interface DetectorInputFormat {
  readonly channelOrder: 'rgb' | 'bgr';
  /** value = (pixel − mean[c]) / std[c], pixel in 0..255, c in the network's channel order. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** NCHW (planes) or NHWC (interleaved); default NCHW. */
  readonly layout?: 'nchw' | 'nhwc';
}

export function assertRgbImage(image: RgbImage): void {
  if (!Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 || image.height < 1) {
    throw new Error(`frame size ${image.width}x${image.height} is not a positive integer size`);
  }
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(
      `frame data has ${image.data.length} bytes, expected ${image.width * image.height * 3} for ${image.width}x${image.height} RGB`,
    );
  }
}

/**
 * Writes one image into `out` at `offset` (one CHW plane set of mapping.inputWidth × inputHeight).
 * Padding (letterbox: right and bottom) holds black, normalised like any pixel.
 */
export async function writeDetectorInput(
  image: RgbImage,
  mapping: InputMapping,
  format: DetectorInputFormat,
  out: Float32Array,
  offset: number,
): Promise<void> {
  assertRgbImage(image);
  const { inputWidth: W, inputHeight: H, contentWidth: cw, contentHeight: ch } = mapping;
  const pixels =
    cw === image.width && ch === image.height
      ? image.data
      : await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
          .resize(cw, ch, { fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer();
  const plane = W * H;
  const order = format.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  if (format.layout === 'nhwc') {
    for (let c = 0; c < 3; c++) {
      const pad = (0 - format.mean[c]!) / format.std[c]!;
      for (let i = c; i < plane * 3; i += 3) out[offset + i] = pad;
    }
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const p = (y * cw + x) * 3;
        const q = offset + (y * W + x) * 3;
        for (let c = 0; c < 3; c++) out[q + c] = (pixels[p + order[c]!]! - format.mean[c]!) / format.std[c]!;
      }
    }
    return;
  }
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const mean = format.mean[c]!;
    const inv = 1 / format.std[c]!;
    const base = offset + c * plane;
    out.fill((0 - mean) * inv, base, base + plane);
    for (let y = 0; y < ch; y++) {
      let p = y * cw * 3 + src;
      const row = base + y * W;
      for (let x = 0; x < cw; x++, p += 3) out[row + x] = (pixels[p]! - mean) * inv;
    }
  }
}
