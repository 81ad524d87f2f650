import { describe, expect, it } from 'vitest';
import type { Classification, RgbImage } from '../../../src/core/types.ts';
import { faceThumbnail, ReuseGate, thumbnailDistance } from '../../../src/inference/analyzers/reuse.ts';

/** A 64×64 frame: a grey gradient with a dark "mouth" bar whose height can change. */
function frame(options: { brightness?: number; mouth?: number } = {}): RgbImage {
  const size = 64;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inMouth = x >= 20 && x < 44 && y >= 44 && y < 44 + (options.mouth ?? 2);
      const v = Math.min(255, (inMouth ? 30 : 60 + x * 2) + (options.brightness ?? 0));
      data.set([v, v, v], (y * size + x) * 3);
    }
  }
  return { data, width: size, height: size };
}
const whole = { x: 0, y: 0, width: 64, height: 64 };
const classification = (label: string): Classification => ({ label, labelIndex: 0, probabilities: [1] });

describe('thumbnails', () => {
  it('ignore a uniform change of brightness and see a mouth opening', () => {
    const base = faceThumbnail(frame(), whole);
    expect(thumbnailDistance(base, faceThumbnail(frame(), whole))).toBe(0);
    expect(thumbnailDistance(base, faceThumbnail(frame({ brightness: 20 }), whole))).toBeLessThan(0.002);
    expect(thumbnailDistance(base, faceThumbnail(frame({ mouth: 12 }), whole))).toBeGreaterThan(0.01);
  });
});

describe('the reuse gate', () => {
  const run = (gate: ReuseGate, frames: RgbImage[], boxes = frames.map(() => whole)) => {
    let calls = 0;
    const reused = frames.map((f, i) => gate.next(f, [{ box: boxes[i]!, crop: boxes[i]! }], () => Promise.resolve(classification(`call ${++calls}`)))[0]!.reused);
    return { reused, calls };
  };

  it('reuses an unchanged face for at most maxReuse frames in a row, then classifies it again', () => {
    const { reused, calls } = run(new ReuseGate({ maxReuse: 3, threshold: 0.01, minIou: 0.5 }), Array.from({ length: 9 }, () => frame()));
    expect(reused).toEqual([false, true, true, true, false, true, true, true, false]);
    expect(calls).toBe(3);
  });

  it('compares with the frame last classified, so slow drift still triggers a classification', () => {
    // Each frame's mouth a little taller: no two neighbours differ much, the first and the fourth do.
    const frames = [2, 3, 4, 5, 6, 7].map((mouth) => frame({ mouth }));
    const steps = frames.slice(1).map((f, i) => thumbnailDistance(faceThumbnail(frames[i]!, whole), faceThumbnail(f, whole)));
    const threshold = Math.max(...steps) * 1.5;
    const { reused } = run(new ReuseGate({ maxReuse: 100, threshold, minIou: 0.5 }), frames);
    expect(reused[1]).toBe(true);
    expect(reused.slice(1).some((r) => !r)).toBe(true);
  });

  it('classifies a face that moved, one that changed, and everything when off', () => {
    const moved = run(new ReuseGate({ maxReuse: 4, threshold: 0.01, minIou: 0.5 }), [frame(), frame()], [whole, { x: 40, y: 40, width: 24, height: 24 }]);
    expect(moved.reused).toEqual([false, false]);
    const changed = run(new ReuseGate({ maxReuse: 4, threshold: 0.01, minIou: 0.5 }), [frame(), frame({ mouth: 14 })]);
    expect(changed.reused).toEqual([false, false]);
    const off = run(new ReuseGate({ maxReuse: 0, threshold: 1, minIou: 0 }), [frame(), frame(), frame()]);
    expect(off).toEqual({ reused: [false, false, false], calls: 3 });
  });

  it('after reset (a frame whose detection failed) the next face is classified', () => {
    const gate = new ReuseGate({ maxReuse: 4, threshold: 0.01, minIou: 0.5 });
    run(gate, [frame()]);
    gate.reset();
    expect(run(gate, [frame()]).reused).toEqual([false]);
  });
});
