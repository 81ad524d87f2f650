import { describe, expect, it } from 'vitest';
import { annotationSubtitles } from '../../src/results/annotation.ts';
import type { VideoResult } from '../../src/results/types.ts';

const face = (x: number, trackId: number, label: string, p: number) => ({
  box: { x, y: 100, width: 80, height: 90 },
  detectorScore: 0.9,
  trackId,
  label,
  probabilities: label === 'happy' ? [1 - p, p] : [p, 1 - p],
});
const result = {
  labels: ['neutral', 'happy'],
  video: { width: 640, height: 360 },
  aggregation: { smoothingWindow: 1, frameInterval: 0.5 },
  frames: [
    { index: 1, timestamp: 0.5, faces: [face(300, 2, 'neutral', 0.7)] },
    { index: 0, timestamp: 0, faces: [face(100, 1, 'happy', 0.93), face(300, 2, 'neutral', 0.81)] },
    { index: 2, timestamp: 1, faces: [] },
  ],
} as unknown as VideoResult;

describe('annotated video overlay (ASS)', () => {
  it("draws each face from its sample until the next one, in the video's pixels, with track, label and probability", () => {
    const ass = annotationSubtitles(result);
    expect(ass).toContain('PlayResX: 640');
    expect(ass).toContain('PlayResY: 360');
    const events = ass.split('\n').filter((l) => l.startsWith('Dialogue:'));
    // 3 faces → a box and a label each; the empty frame draws nothing.
    expect(events).toHaveLength(6);
    const labels = events.filter((e) => e.includes(',Label,'));
    expect(labels.map((e) => e.split(',').slice(1, 3).join('–'))).toEqual([
      '0:00:00.00–0:00:00.50',
      '0:00:00.00–0:00:00.50',
      '0:00:00.50–0:00:01.00',
    ]);
    expect(labels[0]).toMatch(/\\pos\(100,98\).*#1 happy 0\.93$/);
    expect(labels[2]).toMatch(/#2 neutral 0\.70$/);
    // The box outline: outer rectangle then inner one (a frame of lineWidth = 640/200 ≈ 3 px).
    expect(events[0]).toContain(
      'm 100 100 l 180 100 l 180 190 l 100 190 l 100 100 m 103 103 l 103 187 l 177 187 l 177 103 l 103 103',
    );
  });

  it('a face at the top edge gets its label below the box', () => {
    const top = {
      ...result,
      frames: [
        {
          index: 0,
          timestamp: 0,
          faces: [{ ...face(10, 1, 'happy', 0.9), box: { x: 10, y: 2, width: 50, height: 50 } }],
        },
      ],
    } as unknown as VideoResult;
    const label = annotationSubtitles(top)
      .split('\n')
      .find((l) => l.includes(',Label,'))!;
    expect(label).toMatch(/\\pos\(10,\d+\)/);
    expect(Number(/\\pos\(10,(\d+)\)/.exec(label)![1])).toBeGreaterThan(52);
  });
});
