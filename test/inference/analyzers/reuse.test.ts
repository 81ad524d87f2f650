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
  /**
   * Gates `frames` (one face each), then finishes; the classifier gives frame i the label `labels[i]` ("same" when
   * absent).
   */
  const run = async (
    gate: ReuseGate,
    frames: RgbImage[],
    options: { boxes?: (typeof whole)[]; labels?: string[] } = {},
  ) => {
    const classified: number[] = [];
    const gated = frames.map((f, i) => {
      const box = options.boxes?.[i] ?? whole;
      return gate.next(f, [{ box, crop: box }], () => {
        classified.push(i);
        return Promise.resolve(classification(options.labels?.[i] ?? 'same'));
      })[0]!;
    });
    gate.finish();
    const outcomes = await Promise.all(gated.map((g) => g.outcome));
    return { reused: outcomes.map((o) => o.reused), labels: outcomes.map((o) => o.classification.label), classified };
  };
  const gate = (maxReuse: number, threshold = 0.01) => new ReuseGate({ maxReuse, threshold, minIou: 0.5 });

  it('reuses an unchanged face for at most maxReuse frames in a row, then classifies it again', async () => {
    const { reused, classified } = await run(
      gate(3),
      Array.from({ length: 9 }, () => frame()),
    );
    expect(reused).toEqual([false, true, true, true, false, true, true, true, false]);
    expect(classified).toEqual([0, 4, 8]);
  });

  it('bisects a run whose next classification gives another label: each half is held to its own ends', async () => {
    const labels = ['happy', 'happy', 'sad', 'sad', 'sad', 'sad'];
    const result = await run(
      gate(3),
      Array.from({ length: 6 }, () => frame()),
      { labels },
    );
    // Frames 1–3 reused frame 0's "happy"; frame 4 says "sad". The middle one (2) is classified:
    // "sad", so 1 (between happy and sad) is classified too, and 3 (between sad and sad) reuses 2.
    expect(result.labels).toEqual(labels);
    expect(result.reused).toEqual([false, false, false, true, false, false]);
    expect(result.classified).toEqual([0, 4, 5, 2, 1]);
  });

  it('a long run with one change of label costs a few classifications, and every face gets the label it would have had', async () => {
    const labels = ['happy', ...Array(5).fill('happy'), ...Array(4).fill('sad'), 'sad'];
    const result = await run(
      gate(9),
      Array.from({ length: 11 }, () => frame()),
      { labels },
    );
    expect(result.labels).toEqual(labels);
    // Frames 1–9 provisional, frame 10 ("sad") ends the run. Bisecting: 5 is "happy", so 1–4 keep
    // frame 0's; between 5 and 10, 8 is "sad", so 9 reuses it; between 5 and 8, 7; between 5 and 7, 6.
    // Four classifications instead of nine.
    expect(result.classified).toEqual([0, 10, 5, 8, 7, 6]);
    expect(result.reused).toEqual([false, true, true, true, true, false, false, false, false, true, false]);
  });

  it('ends a run still open when the sequence finishes, or the face leaves, by classifying its last face', async () => {
    const open = await run(gate(4), [frame(), frame(), frame()]);
    expect(open).toMatchObject({ reused: [false, true, false], classified: [0, 2] });

    const g = gate(4);
    const first = g.next(frame(), [{ box: whole, crop: whole }], () => Promise.resolve(classification('a')))[0]!;
    const second = g.next(frame(), [{ box: whole, crop: whole }], () => Promise.resolve(classification('b')))[0]!;
    let settled = false;
    void second.outcome.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false); // provisional until its run ends
    g.next(frame(), [], () => Promise.reject(new Error('no face to classify')));
    // The face left: its reuse could not be confirmed, so it was classified itself ("b").
    expect(await second.outcome).toEqual({ classification: classification('b'), reused: false });
    expect((await first.outcome).reused).toBe(false);
  });

  it("fails the reusing faces with the classification they reused, and classifies them when the run's end failed", async () => {
    const failedStart = gate(4);
    const faces = [0, 1].map(
      (i) =>
        failedStart.next(frame(), [{ box: whole, crop: whole }], () =>
          i === 0 ? Promise.reject(new Error('model gone')) : Promise.resolve(classification('x')),
        )[0]!,
    );
    failedStart.next(frame({ mouth: 14 }), [{ box: whole, crop: whole }], () => Promise.resolve(classification('x')));
    failedStart.finish();
    await expect(faces[0]!.outcome).rejects.toThrow('model gone');
    await expect(faces[1]!.outcome).rejects.toThrow('model gone');

    const failedEnd = gate(4);
    // Frame 0 is classified "x", frame 1 reuses it, frame 2 (changed) fails: frame 1 is classified itself ("z").
    const calls = [
      () => Promise.resolve(classification('x')),
      () => Promise.reject(new Error('frame 2 failed')),
      () => Promise.resolve(classification('z')),
    ];
    let call = 0;
    const next = (f: RgbImage) => failedEnd.next(f, [{ box: whole, crop: whole }], () => calls[call++]!())[0]!;
    const faces2 = [next(frame()), next(frame()), next(frame({ mouth: 14 }))];
    failedEnd.finish();
    expect(await faces2[1]!.outcome).toEqual({ classification: classification('z'), reused: false });
    await expect(faces2[2]!.outcome).rejects.toThrow('frame 2 failed');
    expect(call).toBe(3);

    // Crops that cannot be cut (a synchronous throw) once the run ends: those faces fail, nothing hangs.
    const throwing = gate(4);
    let calls2 = 0;
    const cut = (f: RgbImage) =>
      throwing.next(f, [{ box: whole, crop: whole }], () => {
        if (++calls2 > 1) throw new Error('crop outside the frame');
        return Promise.resolve(classification('x'));
      })[0]!;
    const faces3 = [cut(frame()), cut(frame()), cut(frame())];
    throwing.finish();
    await expect(faces3[2]!.outcome).rejects.toThrow('crop outside the frame');
    await expect(faces3[1]!.outcome).rejects.toThrow('crop outside the frame'); // classified itself, as its run's end failed
    expect((await faces3[0]!.outcome).classification.label).toBe('x');
  });

  it('compares with the frame last classified, so slow drift still triggers a classification', async () => {
    // Each frame's mouth a little taller: no two neighbours differ much, the first and the fourth do.
    const frames = [2, 3, 4, 5, 6, 7].map((mouth) => frame({ mouth }));
    const steps = frames
      .slice(1)
      .map((f, i) => thumbnailDistance(faceThumbnail(frames[i]!, whole), faceThumbnail(f, whole)));
    const { reused } = await run(gate(100, Math.max(...steps) * 1.5), frames);
    expect(reused[1]).toBe(true);
    expect(reused.slice(1, -1).some((r) => !r)).toBe(true);
  });

  it('classifies a face that moved, one that changed, and everything when off', async () => {
    const moved = await run(gate(4), [frame(), frame()], { boxes: [whole, { x: 40, y: 40, width: 24, height: 24 }] });
    expect(moved.reused).toEqual([false, false]);
    const changed = await run(gate(4), [frame(), frame({ mouth: 14 })]);
    expect(changed.reused).toEqual([false, false]);
    const off = await run(new ReuseGate({ maxReuse: 0, threshold: 1, minIou: 0 }), [frame(), frame(), frame()]);
    expect(off).toMatchObject({ reused: [false, false, false], classified: [0, 1, 2] });
  });

  it('after finish (also what a frame whose detection failed does) the next face is classified', async () => {
    const g = gate(4);
    await run(g, [frame()]);
    g.finish();
    expect((await run(g, [frame()])).reused).toEqual([false]);
  });
});
