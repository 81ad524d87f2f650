import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/core/errors.ts';
import { buildVideoResult, resmoothVideoResult } from '../../src/results/aggregate.ts';
import type { BuildVideoResultInput } from '../../src/results/types.ts';
import { face, frames, LABELS, MODEL } from './fixtures.ts';

function build(spec: Parameters<typeof frames>[0], extra: Partial<BuildVideoResultInput> = {}) {
  return buildVideoResult({
    videoId: 'v1',
    frames: frames(spec),
    video: { durationSeconds: spec.length / 2 },
    model: MODEL,
    ...extra,
  });
}

const brief = (segments: ReturnType<typeof build>['segments']) =>
  segments.map((s) => [s.label, s.start, s.end, s.frames]);

describe('buildVideoResult: frames', () => {
  it('keeps every sampled frame with its timestamp, mean probabilities over its faces and top label', () => {
    const result = build(['happy', null, [face('happy', { p: 0.7 }), face('sad', { p: 0.9 })], 'FAIL']);
    expect(result.frames.map((f) => [f.index, f.timestamp, f.label])).toEqual([
      [0, 0, 'happy'],
      [1, 0.5, null],
      [2, 1, 'sad'],
      [3, 1.5, null],
    ]);
    const two = result.frames[2]!;
    expect(two.probabilities![LABELS.indexOf('sad')]).toBeCloseTo((0.9 + 0.3 / 6) / 2, 12);
    expect(two.probabilities!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(two.faces.map((f) => f.label)).toEqual(['happy', 'sad']);
    expect(result.frames[1]!.probabilities).toBeNull();
    expect(result.frames[3]!.error).toBe('decode failed');
    expect(result.labels).toEqual(LABELS);
  });

  it('counts a frame processed twice once (an analysed copy wins over a failed one) and sorts by index', () => {
    const [a, b] = frames(['happy', 'sad']);
    const result = buildVideoResult({
      videoId: 'v',
      frames: [b!, { ...a!, faces: [], error: 'timeout' }, a!, b!],
      video: {},
      model: MODEL,
    });
    expect(result.frames.map((f) => [f.index, f.label, f.error])).toEqual([
      [0, 'happy', undefined],
      [1, 'sad', undefined],
    ]);
    expect(result.counts.sampled).toBe(2);
    expect(result.counts.failed).toBe(0);
  });

  it('passes whole-frame results (detector score null) through', () => {
    const result = build([[face('neutral', { score: null })]]);
    expect(result.frames[0]!.faces[0]!.detectorScore).toBeNull();
    expect(result.frames[0]!.faces[0]!.trackId).toBeNull();
  });

  it('reports a frame scored over another label set as failed (saying why) instead of failing the video', () => {
    const [good, bad] = frames(['happy', 'sad']);
    const other = { ...bad!, faces: [{ ...bad!.faces[0]!, probabilities: [0.5, 0.5] }] };
    const result = buildVideoResult({ videoId: 'v', frames: [good!, other], video: {}, model: MODEL });
    expect(result.frames[1]).toMatchObject({ probabilities: null, label: null, faces: [] });
    expect(result.frames[1]!.error).toMatch(/face 0 has 2 probabilities but the model has 7 labels/);
    expect(result.counts).toMatchObject({ sampled: 2, analysed: 1, failed: 1 });
  });

  it('rejects a bad smoothing window or a model without labels', () => {
    expect(() => build(['happy'], { aggregation: { smoothingWindow: 0 } })).toThrow(FerError);
    expect(() => build(['happy'], { aggregation: { smoothingWindow: 1.5 } })).toThrow(/integer ≥ 1, got 1.5/);
    expect(() => buildVideoResult({ videoId: 'v', frames: [], video: {}, model: { ...MODEL, labels: [] } })).toThrow(
      /no labels/,
    );
  });
});

describe('buildVideoResult: timeline segments', () => {
  it('merges consecutive frames with the same top label; the last segment ends one frame interval later', () => {
    const result = build(['happy', 'happy', 'sad', 'sad', 'sad', 'happy']);
    expect(brief(result.segments)).toEqual([
      ['happy', 0, 1, 2],
      ['sad', 1, 2.5, 3],
      ['happy', 2.5, 3, 1],
    ]);
    expect(result.segments.map((s) => [s.firstFrame, s.lastFrame])).toEqual([
      [0, 1],
      [2, 4],
      [5, 5],
    ]);
    expect(result.segments[0]!.meanProbability).toBeCloseTo(0.7, 12);
    expect(result.aggregation.frameInterval).toBe(0.5);
  });

  it('breaks segments at frames without a face (no_face) and failed frames (failed)', () => {
    const result = build(['happy', null, null, 'happy', 'FAIL', 'happy']);
    expect(result.segments.map((s) => [s.kind, s.label, s.frames, s.meanProbability === null])).toEqual([
      ['expression', 'happy', 1, false],
      ['no_face', 'no_face', 2, true],
      ['expression', 'happy', 1, false],
      ['failed', 'failed', 1, true],
      ['expression', 'happy', 1, false],
    ]);
  });

  it('smooths probabilities over a centred window before labelling segments', () => {
    const spec = ['happy', 'happy', 'sad', 'happy', 'happy'];
    expect(brief(build(spec).segments)).toHaveLength(3);
    const smoothed = build(spec, { aggregation: { smoothingWindow: 3 } });
    expect(brief(smoothed.segments)).toEqual([['happy', 0, 2.5, 5]]);
    // Frame entries keep their raw label; only the timeline is smoothed.
    expect(smoothed.frames[2]!.label).toBe('sad');
    expect(smoothed.aggregation.smoothingWindow).toBe(3);
  });

  it('never smooths across a frame without a face', () => {
    // Were frames 0 and 2 averaged together, frame 2 would come out happy.
    const spec = ['happy', null, [face('sad', { p: 0.8 })], 'happy', 'happy'];
    const result = build(spec, { aggregation: { smoothingWindow: 3 } });
    expect(result.segments.map((s) => s.label)).toEqual(['happy', 'no_face', 'sad', 'happy']);
  });

  it('uses the given frame interval for the last segment', () => {
    const result = build(['happy'], { aggregation: { frameInterval: 0.2 } });
    expect(brief(result.segments)).toEqual([['happy', 0, 0.2, 1]]);
  });
});

describe('buildVideoResult: distribution, dominant, counts', () => {
  it('gives the mean probability and share of frames per label over frames with a face', () => {
    const result = build(['happy', 'happy', 'sad', null]);
    const { meanProbability, frameShare } = result.distribution;
    expect(frameShare.happy).toBeCloseTo(2 / 3, 12);
    expect(frameShare.sad).toBeCloseTo(1 / 3, 12);
    expect(frameShare.angry).toBe(0);
    expect(meanProbability.happy).toBeCloseTo((0.7 + 0.7 + 0.05) / 3, 12);
    expect(Object.values(meanProbability).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Object.keys(meanProbability)).toEqual(LABELS);
    expect(result.dominant).toEqual({
      label: 'happy',
      frameShare: frameShare.happy,
      meanProbability: meanProbability.happy,
    });
  });

  it('breaks a tie in frame share by the higher mean probability', () => {
    const result = build([[face('happy', { p: 0.6 })], [face('sad', { p: 0.9 })]]);
    expect(result.dominant!.label).toBe('sad');
  });

  it('counts sampled, analysed, failed, with/without face, faces, reused faces and the face-visible share', () => {
    const result = build([
      'happy',
      null,
      'FAIL',
      [face('happy'), { ...face('sad', { x: 200 }), reused: true }],
      null,
      'sad',
    ]);
    expect(result.counts).toEqual({
      sampled: 6,
      analysed: 5,
      failed: 1,
      withFace: 3,
      withoutFace: 2,
      faces: 4,
      reusedFaces: 1,
      faceVisibleShare: 3 / 5,
      tracks: 0,
      persons: 0,
      decodeErrors: 0,
    });
    expect(result.warnings).toEqual(["1 of 6 sampled frames could not be analysed (see each frame's error)"]);
  });

  it('carries the decode damage the producer counted into counts and warnings', () => {
    const result = buildVideoResult({
      videoId: 'v',
      frames: [],
      video: { name: 'x.mp4' },
      model: { name: 'm', labels: ['happy'], preprocessing: {} },
      decodeErrors: 3,
    });
    expect(result.counts.decodeErrors).toBe(3);
    expect(result.warnings).toEqual([
      'ffmpeg reported 3 decoding errors in the video stream: some frames may show concealed damage',
    ]);
  });

  it('has no dominant expression and zero shares when no face was ever found', () => {
    const result = build([null, null]);
    expect(result.dominant).toBeNull();
    expect(result.counts.faceVisibleShare).toBe(0);
    expect(Object.values(result.distribution.frameShare).every((s) => s === 0)).toBe(true);
    const empty = build([]);
    expect(empty.segments).toEqual([]);
    expect(empty.counts.sampled).toBe(0);
  });

  it('echoes video metadata, model, processing options and timings', () => {
    const timings = {
      submittedAt: '2026-01-01T00:00:00.000Z',
      completedAt: '2026-01-01T00:00:02.000Z',
      processingMs: 2000,
    };
    const result = build(['happy'], {
      processing: { fps: 2 },
      timings,
      video: { durationSeconds: 0.5, width: 640, height: 360, codec: 'h264' },
    });
    expect(result.model).toEqual(MODEL);
    expect(result.processing).toEqual({ fps: 2 });
    expect(result.timings).toEqual(timings);
    expect(result.video.codec).toBe('h264');
    expect(result.schemaVersion).toBe(1);
  });
});

describe('buildVideoResult: tracks', () => {
  it('summarises each track: span, frames, distribution, dominant and its own timeline broken where the track is absent', () => {
    const one = (label: string) => face(label, { trackId: 1, x: 0 });
    const two = (label: string) => face(label, { trackId: 2, x: 300 });
    const result = build([
      [one('happy'), two('sad')],
      [one('happy'), two('sad')],
      [one('surprise')],
      [one('surprise'), two('sad')],
    ]);
    expect(result.counts.tracks).toBe(2);
    const [t1, t2] = result.tracks;
    expect(t1!.trackId).toBe(1);
    expect([t1!.firstTimestamp, t1!.lastTimestamp, t1!.frames]).toEqual([0, 1.5, 4]);
    expect(brief(t1!.segments)).toEqual([
      ['happy', 0, 1, 2],
      ['surprise', 1, 2, 2],
    ]);
    expect(t1!.distribution.frameShare.happy).toBe(0.5);
    expect(t2!.trackId).toBe(2);
    expect([t2!.firstTimestamp, t2!.lastTimestamp, t2!.frames]).toEqual([0, 1.5, 3]);
    // Absent at frame 2: two segments, the first ending where frame 2 starts.
    expect(brief(t2!.segments)).toEqual([
      ['sad', 0, 1, 2],
      ['sad', 1.5, 2, 1],
    ]);
    expect(t2!.dominant).toMatchObject({ label: 'sad', frameShare: 1 });
    expect(result.frames[0]!.faces.map((f) => f.trackId)).toEqual([1, 2]);
  });

  it('runs the tracker given as assignTracks before aggregating', () => {
    const result = build(['happy', 'sad'], {
      assignTracks: (fs) => fs.map((f) => ({ ...f, faces: f.faces.map((x) => ({ ...x, trackId: 7 })) })),
    });
    expect(result.tracks.map((t) => [t.trackId, t.frames])).toEqual([[7, 2]]);
  });

  it('has no tracks when faces carry no track id', () => {
    expect(build(['happy', 'sad']).tracks).toEqual([]);
  });
});

describe('resmoothVideoResult', () => {
  it('gives exactly what aggregating with that window in the first place gives, tracks and failures included', () => {
    const spec = [
      [face('happy', { trackId: 1 }), face('sad', { trackId: 2, x: 300 })],
      [face('sad', { trackId: 1 })],
      [face('happy', { trackId: 1 }), face('sad', { trackId: 2, x: 300, score: null })],
      null,
      'FAIL',
      [face('happy', { trackId: 1 })],
      'surprise',
    ] as Parameters<typeof frames>[0];
    const extra = { processing: { fps: 2 }, timings: { submittedAt: '2026-01-01T00:00:00.000Z' } };
    const raw = build(spec, extra);
    const direct = build(spec, { ...extra, aggregation: { smoothingWindow: 3 } });
    expect(resmoothVideoResult(raw, 3)).toEqual(direct);
    expect(resmoothVideoResult(direct, 1)).toEqual(raw);
  });
});

describe('keypoints', () => {
  it("keeps each face's detector keypoints in the result, scaled to video pixels with its box", async () => {
    const { scaleFaceBoxes } = await import('../../src/results/face-boxes.ts');
    const landmarks = [
      [10, 20],
      [30, 20],
      [20, 30],
      [12, 40],
      [28, 40],
    ] as const;
    const analysed = [
      { index: 0, timestamp: 0, faces: [{ ...face('happy'), box: { x: 5, y: 10, width: 30, height: 40 }, landmarks }] },
    ];
    const scaled = scaleFaceBoxes(analysed, { width: 100, height: 50 }, { width: 200, height: 100 });
    const result = buildVideoResult({ videoId: 'v', frames: scaled, video: { name: 'x.mp4' }, model: MODEL });
    const entry = result.frames[0]!.faces[0]!;
    expect(entry.box).toEqual({ x: 10, y: 20, width: 60, height: 80 });
    expect(entry.landmarks).toEqual([
      [20, 40],
      [60, 40],
      [40, 60],
      [24, 80],
      [56, 80],
    ]);
    // A re-smoothed result keeps them too.
    expect(resmoothVideoResult(result, 3).frames[0]!.faces[0]!.landmarks).toEqual(entry.landmarks);
  });
});
