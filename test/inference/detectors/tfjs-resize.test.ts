import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/types.ts';
import { padBottomRightAndResize } from '../../../src/inference/detectors/tfjs-resize.ts';
import { referenceDetectorInput } from '../../models/faceapi/face-api-reference.ts';

function pattern(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let x = seed;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return { data, width, height };
}

describe("tiny detector input: face-api's padding and tfjs resizeBilinear, reproduced", () => {
  // Landscape and portrait (padding at the bottom vs the right), odd sizes, down- and upscaling.
  it.each([
    [97, 61, 64],
    [61, 97, 64],
    [300, 200, 128],
    [40, 40, 96],
    [33, 70, 32],
  ])('%ix%i → %i: identical to face-api on tfjs', async (width, height, size) => {
    const image = pattern(width, height, width * 31 + height);
    const ours = new Float32Array(3 * size * size);
    padBottomRightAndResize(image, size, ours);
    const reference = await referenceDetectorInput(image, size);
    let mismatches = 0;
    for (let i = 0; i < size * size; i++) {
      for (let c = 0; c < 3; c++) if (ours[c * size * size + i] !== reference[i * 3 + c]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
