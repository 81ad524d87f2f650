import { describe, expect, it } from 'vitest';
import { cropRgb, faceCropBox } from '../../../src/inference/detectors/crop.ts';

describe('face crop region', () => {
  it('grows each side by the margin of the longer side and squares around the centre', () => {
    // 40x60 box centred at (120, 130); margin 0.25 → side 60·1.5 = 90.
    expect(faceCropBox({ x: 100, y: 100, width: 40, height: 60 }, 1000, 1000, 0.25)).toEqual({
      x: 75,
      y: 85,
      width: 90,
      height: 90,
    });
    expect(faceCropBox({ x: 100, y: 100, width: 40, height: 60 }, 1000, 1000, 0)).toEqual({
      x: 90,
      y: 100,
      width: 60,
      height: 60,
    });
  });

  it('moves a square that would cross the frame edge back inside, keeping its size', () => {
    expect(faceCropBox({ x: -10, y: 180, width: 50, height: 50 }, 300, 200, 0.1)).toEqual({
      x: 0,
      y: 140,
      width: 60,
      height: 60,
    });
  });

  it('clips only a square larger than the frame', () => {
    expect(faceCropBox({ x: 10, y: 10, width: 100, height: 180 }, 400, 200, 0.2)).toEqual({
      x: 0,
      y: 0,
      width: 252,
      height: 200,
    });
  });
});

describe('cropRgb', () => {
  it('copies the region row by row', () => {
    const frame = { width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => i) };
    const crop = cropRgb(frame, { x: 1, y: 1, width: 2, height: 2 });
    expect(crop.width).toBe(2);
    expect(Array.from(crop.data)).toEqual([15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  });

  it('rejects regions outside the frame or not on whole pixels', () => {
    const frame = { width: 4, height: 3, data: new Uint8Array(36) };
    expect(() => cropRgb(frame, { x: 3, y: 0, width: 2, height: 1 })).toThrow(/outside the 4x3 frame/);
    expect(() => cropRgb(frame, { x: 0.5, y: 0, width: 2, height: 1 })).toThrow(/integer/);
  });
});
