// The last steps of ViTImageProcessor — rescale, normalise, HWC → CHW — fused into one write
// into the batch tensor, through a 256-entry table per channel.

import type { RgbImage } from '../../core/types.ts';
import type { PreprocessorConfig } from '../types.ts';

/**
 * value(v) per channel, in float32 steps like numpy in transformers: rescale computes
 * float64 v·factor cast to float32, normalise subtracts and divides in float32.
 */
export function channelTables(config: PreprocessorConfig): readonly Float32Array[] {
  return [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    const mean = Math.fround(config.image_mean[c]!);
    const std = Math.fround(config.image_std[c]!);
    for (let v = 0; v < 256; v++) {
      let x = config.do_rescale ? Math.fround(v * config.rescale_factor) : v;
      if (config.do_normalize) x = Math.fround(Math.fround(x - mean) / std);
      table[v] = x;
    }
    return table;
  });
}

/**
 * Writes `image` (interleaved RGB) as planes C×H×W at `offset` of `out`; with channel order
 * 'bgr' the first plane is blue. Each table applies to the RGB channel it was built for.
 */
export function writeChw(
  image: RgbImage,
  tables: readonly Float32Array[],
  channelOrder: 'rgb' | 'bgr',
  out: Float32Array,
  offset: number,
): void {
  const plane = image.width * image.height;
  const data = image.data;
  const [t0, t1, t2] = tables as [Float32Array, Float32Array, Float32Array];
  const o0 = offset + (channelOrder === 'bgr' ? 2 : 0) * plane;
  const o1 = offset + plane;
  const o2 = offset + (channelOrder === 'bgr' ? 0 : 2) * plane;
  // One pass over the pixels writing all three planes, not one strided pass per plane.
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[o0 + i] = t0[data[p]!]!;
    out[o1 + i] = t1[data[p + 1]!]!;
    out[o2 + i] = t2[data[p + 2]!]!;
  }
}

/**
 * Pads to a centred square with black (face-api's padToSquare with centring: the odd pixel of
 * padding goes after the image, i.e. right or bottom).
 */
export function padToSquare(image: RgbImage): RgbImage {
  const { width, height } = image;
  if (width === height) return image;
  const side = Math.max(width, height);
  const diff = side - Math.min(width, height);
  const before = Math.floor(diff / 2);
  const x0 = width < height ? before : 0;
  const y0 = height < width ? before : 0;
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < height; y++) {
    data.set(image.data.subarray(y * width * 3, (y + 1) * width * 3), ((y + y0) * side + x0) * 3);
  }
  return { data, width: side, height: side };
}
