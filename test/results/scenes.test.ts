import { describe, expect, it } from 'vitest';
import {
  colourHistogram,
  frameSignature,
  histogramDistance,
  thumbnailDistance,
} from '../../src/core/colour-signature.ts';
import type { FrameResult, RgbImage } from '../../src/core/types.ts';
import { detectCuts } from '../../src/results/scenes.ts';

// Scene cuts from frame signatures. Real-video thresholds are measured in BENCHMARKS.md ("Scene
// cuts"); here the arithmetic, on images made for it.

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { data, width, height };
}

const frame = (index: number, picture: RgbImage): FrameResult => ({
  index,
  timestamp: index / 2,
  faces: [],
  signature: frameSignature(picture),
});

describe('colour signatures', () => {
  it('histograms count the sampled pixels per colour bin; distances are 0 for the same picture, 1 for disjoint colours', () => {
    const red = image(64, 48, () => [255, 0, 0]);
    const blue = image(64, 48, () => [0, 0, 255]);
    const histogram = colourHistogram(red);
    expect(histogram.reduce((a, b) => a + b, 0)).toBe(24 * 24);
    expect(histogram[(3 << 4) | 0]).toBe(24 * 24);
    expect(histogramDistance(histogram, colourHistogram(red))).toBe(0);
    expect(histogramDistance(histogram, colourHistogram(blue))).toBe(1);
    // A region: the left half of a half-red, half-blue picture is red.
    const split = image(64, 48, (x) => (x < 32 ? [255, 0, 0] : [0, 0, 255]));
    expect(histogramDistance(colourHistogram(split, { x: 0, y: 0, width: 32, height: 48 }), histogram)).toBe(0);
    expect(histogramDistance(colourHistogram(split), histogram)).toBeCloseTo(0.5, 1);
  });

  it('thumbnails are the mean brightness of an 8×8 grid', () => {
    const gradient = image(80, 80, (x) => [x * 3, x * 3, x * 3]);
    const { thumbnail } = frameSignature(gradient);
    expect(thumbnail).toHaveLength(64);
    expect(thumbnail[0]!).toBeLessThan(thumbnail[7]!);
    expect(thumbnailDistance(thumbnail, thumbnail)).toBe(0);
    expect(
      thumbnailDistance(thumbnail, frameSignature(image(80, 80, () => [255, 255, 255])).thumbnail),
    ).toBeGreaterThan(0.3);
  });
});

describe('scene cuts', () => {
  const shotA = (shift: number) => image(96, 72, (x, y) => [(x + shift) % 96 < 48 ? 200 : 60, 120, y < 36 ? 40 : 90]);
  const shotB = image(96, 72, (x, y) => [20, (x * y) % 256, 220]);

  it('finds the change of shot and nothing within a shot (a slow pan)', () => {
    const frames = [frame(0, shotA(0)), frame(1, shotA(3)), frame(2, shotA(6)), frame(3, shotB), frame(4, shotB)];
    const cuts = detectCuts(frames, 0.4);
    expect(cuts.map((c) => c.index)).toEqual([3]);
    expect(cuts[0]!.timestamp).toBe(1.5);
    expect(cuts[0]!.score).toBeGreaterThan(0.4);
  });

  it('skips frames without a signature (failed) and compares across them; sorts by index', () => {
    const failed: FrameResult = { index: 2, timestamp: 1, faces: [], error: 'decode failed' };
    const frames = [frame(3, shotB), failed, frame(0, shotA(0)), frame(1, shotA(3))];
    expect(detectCuts(frames, 0.4).map((c) => c.index)).toEqual([3]);
    expect(detectCuts(frames, 3)).toEqual([]);
  });
});
