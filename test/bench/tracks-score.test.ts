// The tracking benchmark's metrics on hand-made cases whose answers are known.
import { describe, expect, it } from 'vitest';
import { idf1, scoreTracks } from '../../bench/tracks/score.ts';
import type { FaceResult } from '../../src/core/types.ts';

const box = (x: number) => ({ x, y: 0, width: 50, height: 50 });
const face = (x: number, trackId: number): FaceResult => ({
  box: box(x),
  detectorScore: 0.9,
  trackId,
  probabilities: [1],
  label: 'a',
  labelIndex: 0,
});
const truth = (person: string, x: number, occluded = false) => ({ person, box: box(x), occluded });

describe('tracking metrics', () => {
  it('a perfect track: IDF1 1, no switches', () => {
    const s = scoreTracks([0, 1, 2].map((i) => ({ truth: [truth('a', i * 10)], faces: [face(i * 10, 1)] })));
    expect(s).toMatchObject({
      idSwitches: 0,
      fragmentations: 0,
      merges: 0,
      idtp: 3,
      trueBoxes: 3,
      reportedBoxes: 3,
      idsPerPerson: 1,
    });
    expect(idf1(s)).toBe(1);
  });

  it('two people joined into one track at a cut: one merge, IDF1 counts only the better half', () => {
    const frames = [0, 1, 2, 3].map((i) => ({ truth: [truth(i < 2 ? 'a' : 'b', 0)], faces: [face(0, 1)] }));
    const s = scoreTracks(frames);
    expect(s).toMatchObject({ merges: 1, idSwitches: 0, idtp: 2 });
    expect(idf1(s)).toBe(0.5);
  });

  it('a person coming back under a new id is a switch, not a fragmentation; a miss while in view is a fragmentation', () => {
    const back = scoreTracks([
      { truth: [truth('a', 0)], faces: [face(0, 1)] },
      { truth: [], faces: [] },
      { truth: [truth('a', 0)], faces: [face(0, 2)] },
    ]);
    expect(back).toMatchObject({ idSwitches: 1, fragmentations: 0, idsPerPerson: 2 });
    const missed = scoreTracks([
      { truth: [truth('a', 0)], faces: [face(0, 1)] },
      { truth: [truth('a', 0)], faces: [] },
      { truth: [truth('a', 0)], faces: [face(0, 1)] },
    ]);
    expect(missed).toMatchObject({ idSwitches: 0, fragmentations: 1, matched: 2, trueBoxes: 3 });
    expect(idf1(missed)).toBeCloseTo((2 * 2) / (3 + 2));
  });

  it('an occluded person counts neither way, found or not', () => {
    const s = scoreTracks([
      { truth: [truth('a', 0), truth('b', 200, true)], faces: [face(0, 1), face(200, 2)] },
      { truth: [truth('a', 0), truth('b', 200, true)], faces: [face(0, 1)] },
    ]);
    expect(s).toMatchObject({ trueBoxes: 2, reportedBoxes: 2, idtp: 2 });
  });
});
