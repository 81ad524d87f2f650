import { describe, expect, it } from 'vitest';
import { histogramDistance } from '../../src/core/colour-signature.ts';
import { appearanceDistance, faceAppearance } from '../../src/core/face-appearance.ts';
import type { RgbImage } from '../../src/core/types.ts';

/** A 64×64 image from a per-pixel function. */
function image(pixel: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(64 * 64 * 3);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.set(pixel(x, y), (y * 64 + x) * 3);
  return { data, width: 64, height: 64 };
}
const all = { x: 0, y: 0, width: 64, height: 64 };

describe('face appearance', () => {
  it('is 64 colour counts then 64 structure values; a face is at distance 0 from itself', () => {
    const a = faceAppearance(
      image((x, y) => [x * 4, y * 4, 100]),
      all,
    );
    expect(a).toHaveLength(128);
    expect(appearanceDistance(a, a)).toBe(0);
  });

  it('structure ignores brightness and contrast; the same colours laid out differently are far apart', () => {
    const stripes = (gain: number, offset: number) =>
      image((x) => {
        const v = offset + gain * (Math.floor(x / 8) % 2);
        return [v, v, v];
      });
    const dim = faceAppearance(stripes(60, 40), all);
    const bright = faceAppearance(stripes(120, 60), all);
    // The histograms differ (other grey levels); the structure part adds nothing to that.
    const colour = histogramDistance(dim.slice(0, 64), bright.slice(0, 64));
    expect(colour).toBeGreaterThan(0);
    expect(appearanceDistance(dim, bright)).toBeCloseTo(colour, 3);
    const rows = faceAppearance(
      image((_, y) => {
        const v = 40 + 60 * (Math.floor(y / 8) % 2);
        return [v, v, v];
      }),
      all,
    );
    expect(appearanceDistance(dim, rows)).toBeGreaterThanOrEqual(0.45);
  });

  it('compares appearances stored before the structure part (64 values) by colour alone', () => {
    const a = faceAppearance(
      image(() => [200, 30, 30]),
      all,
    );
    const b = faceAppearance(
      image(() => [30, 30, 200]),
      all,
    );
    expect(appearanceDistance(a.slice(0, 64), b)).toBe(1);
    expect(appearanceDistance(a.slice(0, 64), a)).toBe(0);
  });
});
