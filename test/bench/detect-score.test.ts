// The detection benchmark's matching and its rule for defaults: a wrong count here would choose
// the wrong default detector.
import { describe, expect, it } from 'vitest';
import { chooseByRule, emptyCounts, scoreFrame, type Candidate, type ThresholdRow } from '../../bench/detect/score.ts';
import { matchFaces } from '../helpers/face-truth/match.ts';
import type { Scene } from '../helpers/face-truth/scenes.ts';

const box = (x: number, y: number, s = 50) => ({ x, y, width: s, height: s });
const image = { data: new Uint8Array(3), width: 1, height: 1 };

describe('matching detections to true faces', () => {
  it('the higher score takes a face first; a second box on the same face is false; a truncated face is neither found nor missed', () => {
    const faces = [
      { box: box(0, 0), truncated: false },
      { box: box(200, 0), truncated: false },
      { box: box(400, 0), truncated: true },
    ];
    const match = matchFaces(
      [
        { box: box(5, 5), score: 0.6 },
        { box: box(2, 2), score: 0.9 },
        { box: box(400, 0), score: 0.8 },
        { box: box(600, 600), score: 0.99 },
      ],
      faces,
    );
    expect(match.found).toEqual([0]);
    expect(match.missed).toEqual([1]);
    expect(match.falseDetections.map((d) => d.score).sort()).toEqual([0.6, 0.99]);
  });

  it('IoU below the bar is a miss and a false face; thresholds drop low-score boxes before matching', () => {
    const scene: Scene = { name: 's', kind: 'composite', image, faces: [{ box: box(0, 0), truncated: false }] };
    const shifted = { box: box(20, 0), score: 0.9 }; // IoU 30/70 ≈ 0.43
    const strict = emptyCounts();
    scoreFrame(strict, [shifted], scene, 0.5, 0.5);
    expect(strict).toMatchObject({ truePositives: 0, falsePositives: 1, misses: 1 });
    const loose = emptyCounts();
    scoreFrame(loose, [shifted], scene, 0.5, 0.3);
    expect(loose).toMatchObject({ truePositives: 1, falsePositives: 0, misses: 0 });
    const high = emptyCounts();
    scoreFrame(high, [shifted], scene, 0.95, 0.3);
    expect(high).toMatchObject({ truePositives: 0, falsePositives: 0, misses: 1 });
    expect(high.bySize[1]).toEqual({ found: 0, total: 1 });
  });
});

describe('the rule for defaults', () => {
  const row = (
    threshold: number,
    recall: number,
    precision: number,
    falsePer100: number,
    clutterFalsePer100 = 0,
  ): ThresholdRow => ({
    threshold,
    recall,
    precision,
    falsePer100,
    clutterFalsePer100,
    recallBySize: [],
    recallLoose: recall,
    photoFaces: { found: 0, total: 0 },
  });
  const c = (label: string, r: ThresholdRow, cpuMsPerFrame = 10): Candidate => ({ label, row: r, cpuMsPerFrame });

  it('takes the best recall that clears both bars (≤ 1 false face / 100 no-face frames, ≥ 99 % precision)', () => {
    const pick = chooseByRule([
      c('a', row(0.3, 0.99, 0.95, 0)),
      c('a', row(0.4, 0.97, 0.995, 2)),
      c('a', row(0.5, 0.96, 0.995, 0.7)),
      c('a', row(0.6, 0.9, 1, 0)),
    ]);
    expect(pick?.row.threshold).toBe(0.5);
    expect(chooseByRule([c('a', row(0.5, 0.9, 0.5, 10))])).toBeUndefined();
  });

  it('a threshold that invents faces in cluttered scenes (paintings, animals, posters) is out, however clean on plain ones', () => {
    const pick = chooseByRule([
      c('a', row(0.5, 0.97, 0.995, 0, 3.2)),
      c('a', row(0.6, 0.95, 0.996, 0, 1.5)),
      c('a', row(0.7, 0.93, 0.997, 0, 0.6)),
    ]);
    expect(pick?.row.threshold).toBe(0.7);
  });

  it('between detectors, recall within the tie goes to the cheaper one', () => {
    const candidates = [
      c('slow', row(0.6, 0.975, 0.993, 0), 80),
      c('fast', row(0.5, 0.967, 0.996, 0), 40),
      c('cheapest', row(0.6, 0.8, 1, 0), 5),
    ];
    expect(chooseByRule(candidates, 0.01)?.label).toBe('fast');
    expect(chooseByRule(candidates, 0)?.label).toBe('slow');
  });
});
