// The second look at doubtful faces (crop-confirmed-detector.ts) and the measured defaults that
// choose it (defaults.ts). The detectors here are stand-ins that answer from a table, so the test
// can say exactly what each stage saw; the real detectors on cluttered scenes are measured by
// bench:detect and checked in test/inference/analyzers/no-face.test.ts.
import { describe, expect, it } from 'vitest';
import type { Box, Detection, RgbImage } from '../../../src/core/types.ts';
import {
  checkRegion,
  CropConfirmedDetector,
  DEFAULT_CROP_CHECK,
} from '../../../src/inference/detectors/crop-confirmed-detector.ts';
import { detectorThreshold, secondLookFor } from '../../../src/inference/detectors/defaults.ts';
import type { FaceDetector } from '../../../src/inference/types.ts';

const frame: RgbImage = { data: new Uint8Array(640 * 480 * 3), width: 640, height: 480 };
const box = (x: number, y: number, size: number): Box => ({ x, y, width: size, height: size });

class TableDetector implements FaceDetector {
  readonly seen: Array<{ width: number; height: number }> = [];
  constructor(
    readonly name: string,
    private readonly answer: (image: RgbImage) => Detection[],
  ) {}
  async detect(image: RgbImage): Promise<Detection[]> {
    this.seen.push({ width: image.width, height: image.height });
    return this.answer(image);
  }
  async close(): Promise<void> {}
}

describe('a second look at doubtful faces', () => {
  it('keeps faces above trustAbove unchecked; a doubtful one only where the confirmer finds it on the crop around it', async () => {
    const primary = new TableDetector('p', () => [
      { box: box(100, 100, 50), score: 0.95 },
      { box: box(300, 100, 50), score: 0.6 },
      { box: box(500, 300, 40), score: 0.55 },
    ]);
    // On a crop, the confirmer answers in crop pixels: a face in the middle of a 100×100 crop (the
    // first doubtful face), nothing on the 80×80 one.
    const confirmer = new TableDetector('c', (crop) =>
      crop.width === 100 ? [{ box: box(25, 25, 50), score: 0.9 }] : [],
    );
    const detector = new CropConfirmedDetector(primary, confirmer, { ...DEFAULT_CROP_CHECK, trustAbove: 0.85 });
    const kept = await detector.detect(frame);
    expect(kept.map((d) => d.score)).toEqual([0.95, 0.6]);
    // Two crops checked (the trusted face none), each twice the face's side.
    expect(confirmer.seen).toEqual([
      { width: 100, height: 100 },
      { width: 80, height: 80 },
    ]);
    expect(detector.name).toBe('p (below 0.85 confirmed by c)');
  });

  it('the crop is a square around the face, moved inside the frame', () => {
    expect(checkRegion(box(300, 100, 50), 640, 480, 2)).toEqual({ x: 275, y: 75, width: 100, height: 100 });
    expect(checkRegion(box(620, 460, 40), 640, 480, 2)).toEqual({ x: 560, y: 400, width: 80, height: 80 });
    expect(checkRegion(box(0, 0, 400), 640, 480, 2)).toEqual({ x: 0, y: 0, width: 480, height: 480 });
  });

  it('a confirmer box elsewhere in the crop does not confirm', async () => {
    const primary = new TableDetector('p', () => [{ box: box(300, 100, 50), score: 0.6 }]);
    const confirmer = new TableDetector('c', () => [{ box: box(0, 0, 20), score: 0.99 }]);
    expect(
      await new CropConfirmedDetector(primary, confirmer, { ...DEFAULT_CROP_CHECK, trustAbove: 0.85 }).detect(frame),
    ).toEqual([]);
  });
});

describe('measured defaults', () => {
  it("the profiles' detectors take their second looks and low thresholds; others run alone at their clutter-safe thresholds", () => {
    const auto = { choice: 'auto' as const };
    const yunet = secondLookFor('yunet-s-dynamic', auto);
    expect(yunet).toEqual({ confirmer: 'blazeface-back', confirmAt: 0.65, trustAbove: 0.85, threshold: 0.5 });
    expect(detectorThreshold('yunet-s-dynamic', undefined, undefined, yunet)).toBe(0.5);
    expect(secondLookFor('blazeface-back', auto)).toMatchObject({ confirmer: 'blazeface-front', threshold: 0.5 });
    expect(secondLookFor('ultraface-rfb-640', auto)).toBeNull();
    expect(detectorThreshold('ultraface-rfb-640', undefined, undefined, null)).toBe(0.8);
    // At a fixed 320×320 input YuNet was not measured with a second look: alone.
    expect(secondLookFor('yunet-s-dynamic', auto, '320x320')).toBeNull();
    expect(detectorThreshold('yunet-s-dynamic', undefined, '320x320', null)).toBe(0.7);
  });

  it('none turns it off; a named confirmer and the knobs override; a configured threshold wins', () => {
    expect(secondLookFor('yunet-s-dynamic', { choice: 'none' })).toBeNull();
    expect(detectorThreshold('yunet-s-dynamic', undefined, undefined, null)).toBe(0.8);
    expect(secondLookFor('yunet-s-dynamic', { choice: 'blazeface-front', confirmAt: 0.6, trustAbove: 0.9 })).toEqual({
      confirmer: 'blazeface-front',
      confirmAt: 0.6,
      trustAbove: 0.9,
      threshold: 0.5,
    });
    expect(secondLookFor('ultraface-rfb-320', { choice: 'blazeface-back' })).toEqual({
      confirmer: 'blazeface-back',
      confirmAt: 0.65,
      trustAbove: 0.85,
      threshold: 0.9,
    });
    expect(
      detectorThreshold('yunet-s-dynamic', 0.42, undefined, secondLookFor('yunet-s-dynamic', { choice: 'auto' })),
    ).toBe(0.42);
  });
});
