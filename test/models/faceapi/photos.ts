// The fixture photos as both sides of a parity test see them, and face crops of them.

import sharp from 'sharp';
import type { Box, RgbImage } from '../../../src/core/types.ts';

// Photos scaled to a long side of 800 px first: both sides get exactly these pixels, and tfjs's
// pure-JS kernels (slow on a shared 2-core machine) then handle a quarter of the data.
export async function decode(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .resize(800, 800, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export function crop(image: RgbImage, box: Box): RgbImage {
  const x = Math.max(0, Math.floor(box.x));
  const y = Math.max(0, Math.floor(box.y));
  const width = Math.min(image.width, Math.ceil(box.x + box.width)) - x;
  const height = Math.min(image.height, Math.ceil(box.y + box.height)) - y;
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++)
    data.set(
      image.data.subarray(((y + row) * image.width + x) * 3, ((y + row) * image.width + x + width) * 3),
      row * width * 3,
    );
  return { data, width, height };
}

export function clampToImage(box: Box, image: RgbImage): Box {
  const x1 = Math.min(Math.max(box.x, 0), image.width);
  const y1 = Math.min(Math.max(box.y, 0), image.height);
  const x2 = Math.min(Math.max(box.x + box.width, 0), image.width);
  const y2 = Math.min(Math.max(box.y + box.height, 0), image.height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}
