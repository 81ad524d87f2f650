import { describe, expect, it } from 'vitest';
import type { Box, FaceResult, FrameResult } from '../../src/core/types.ts';
import { assignTracks } from '../../src/results/tracks.ts';

const face = (x: number, y = 100, size = 100): FaceResult => ({
  box: { x, y, width: size, height: size } satisfies Box,
  detectorScore: 0.9,
  probabilities: [1, 0],
  label: 'happy',
  labelIndex: 0,
});
const frame = (index: number, ...faces: FaceResult[]): FrameResult => ({ index, timestamp: index / 2, faces });
const ids = (frames: FrameResult[]) => frames.map((f) => f.faces.map((x) => x.trackId));
const options = { iouThreshold: 0.3, maxGap: 2 };

describe('face tracker', () => {
  it('never continues a track across a scene cut', () => {
    const frames = [frame(0, face(100)), frame(1, face(102)), frame(2, face(101)), frame(3, face(103))];
    expect(ids(assignTracks(frames, options, { cutIndexes: new Set([2]) }))).toEqual([[1], [1], [2], [2]]);
  });

  it('never joins two faces whose colours differ, however well their boxes overlap', () => {
    const skin = Array.from({ length: 64 }, (_, i) => (i === 42 ? 90 : i === 21 ? 10 : 0));
    const other = Array.from({ length: 64 }, (_, i) => (i === 63 ? 60 : i === 0 ? 40 : 0));
    const slightlyOff = Array.from({ length: 64 }, (_, i) => (i === 42 ? 80 : i === 21 ? 20 : 0));
    const withLook = (f: FaceResult, appearance: number[]): FaceResult => ({ ...f, appearance });
    const frames = [
      frame(0, withLook(face(100), skin)),
      frame(1, withLook(face(101), slightlyOff)),
      frame(2, withLook(face(101), other)),
    ];
    const strict = { ...options, maxAppearanceDistance: 0.45 };
    expect(ids(assignTracks(frames, strict))).toEqual([[1], [1], [2]]);
    // Without the check, overlap alone joins them; faces without a histogram are never refused.
    expect(ids(assignTracks(frames, options))).toEqual([[1], [1], [1]]);
    expect(ids(assignTracks([frame(0, face(100)), frame(1, withLook(face(100), other))], strict))).toEqual([[1], [1]]);
  });

  it('keeps one id per person while faces drift, numbering from 1 left to right', () => {
    const frames = [
      frame(0, face(600), face(100)),
      frame(1, face(110), face(590)),
      frame(2, face(580), face(120)),
      frame(3, face(125), face(575)),
    ];
    expect(ids(assignTracks(frames, options))).toEqual([
      [2, 1],
      [1, 2],
      [2, 1],
      [1, 2],
    ]);
  });

  it('bridges up to maxGap frames without the face (missed detections, failed frames), not more', () => {
    const failed: FrameResult = { index: 2, timestamp: 1, faces: [], error: 'decode failed' };
    const frames = [
      frame(0, face(100)),
      frame(1),
      failed,
      frame(3, face(105)),
      frame(4),
      frame(5),
      frame(6),
      frame(7, face(105)),
    ];
    expect(ids(assignTracks(frames, options))).toEqual([[1], [], [], [1], [], [], [], [2]]);
  });

  it('a face far from every track starts a new one; a track continues with at most one face per frame', () => {
    const frames = [frame(0, face(100)), frame(1, face(100), face(105, 110)), frame(2, face(800))];
    const out = assignTracks(frames, options);
    expect(ids(out)).toEqual([[1], [1, 2], [3]]);
  });

  it('sorts by frame index and leaves inputs untouched; no faces → no tracks', () => {
    const input = [frame(1, face(102)), frame(0, face(100))];
    const out = assignTracks(input, options);
    expect(out.map((f) => f.index)).toEqual([0, 1]);
    expect(ids(out)).toEqual([[1], [1]]);
    expect(input[0]!.faces[0]!.trackId).toBeUndefined();
    expect(assignTracks([frame(0), frame(1)], options).flatMap((f) => f.faces)).toEqual([]);
  });

  it('rejects invalid options', () => {
    expect(() => assignTracks([], { iouThreshold: 2, maxGap: 1 })).toThrow(/iouThreshold/);
    expect(() => assignTracks([], { iouThreshold: 0.3, maxGap: -1 })).toThrow(/maxGap/);
  });
});

describe('scaleFaceBoxes', () => {
  it('maps working-resolution boxes to the displayed video size; frames without faces pass through', async () => {
    const { scaleFaceBoxes } = await import('../../src/results/face-boxes.ts');
    const out = scaleFaceBoxes(
      [frame(0, face(100, 50, 40)), frame(1)],
      { width: 640, height: 360 },
      { width: 1920, height: 1080 },
    );
    expect(out[0]!.faces[0]!.box).toEqual({ x: 300, y: 150, width: 120, height: 120 });
    expect(out[1]!.faces).toEqual([]);
    expect(() => scaleFaceBoxes([], { width: 0, height: 1 }, { width: 1, height: 1 })).toThrow(
      /working size must be positive/,
    );
  });
});

describe('boxesInVideoPixels', () => {
  it("maps boxes from the producer's working size (core/sampling-geometry.ts) to the video's pixels", async () => {
    const { boxesInVideoPixels } = await import('../../src/results/face-boxes.ts');
    const out = boxesInVideoPixels([frame(0, face(64, 36, 64))], { width: 1280, height: 720 }, 640);
    expect(out[0]!.faces[0]!.box).toEqual({ x: 128, y: 72, width: 128, height: 128 });
    // The working size recorded by the producer wins over the one derived from maxSide.
    expect(
      boxesInVideoPixels(
        [frame(0, face(64, 36, 64))],
        { width: 1280, height: 720, frameWidth: 320, frameHeight: 180 },
        640,
      )[0]!.faces[0]!.box.x,
    ).toBe(256);
    // Unknown video size: unchanged.
    expect(boxesInVideoPixels([frame(0, face(64))], {}, 640)[0]!.faces[0]!.box.x).toBe(64);
  });
});

describe('face tracker: motion and re-identification', () => {
  it('two faces crossing keep their ids: a face hidden while they cross is found where it was heading', () => {
    // a moves right, b left, 30 px per frame (100 px boxes, b 20 px lower); frames 5–6: b in front, a not detected.
    const at = (i: number) => ({ a: face(100 + 30 * i, 100), b: face(460 - 30 * i, 120) });
    const frames = Array.from({ length: 12 }, (_, i) =>
      i >= 5 && i <= 6 ? frame(i, at(i).b) : frame(i, at(i).a, at(i).b),
    );
    const idOf = (tracked: FrameResult[], y: number) => tracked.map((f) => f.faces.find((g) => g.box.y === y)?.trackId);
    const tracked = assignTracks(frames, options);
    expect(idOf(tracked, 100)).toEqual([1, 1, 1, 1, 1, undefined, undefined, 1, 1, 1, 1, 1]);
    expect(idOf(tracked, 120)).toEqual(Array(12).fill(2));
    // Matching the last box only (the tracker before motion) loses a behind b and gives it a new id.
    expect(idOf(assignTracks(frames, { ...options, predictMotion: false }), 100).at(-1)).not.toBe(1);
  });

  it('a person who leaves and comes back (same scene, looks alike) resumes their track; not after a cut, not someone else', () => {
    const look = (seed: number) =>
      Array.from({ length: 128 }, (_, i) => (i < 64 ? (i === seed ? 100 : 0) : Math.round(40 * Math.sin(i * seed))));
    const withLook = (f: FaceResult, appearance: number[]): FaceResult => ({ ...f, appearance });
    const me = look(21);
    const someoneElse = look(42);
    const away = [
      frame(0, withLook(face(100), me)),
      frame(1, withLook(face(100), me)),
      frame(2),
      frame(3),
      frame(4),
      frame(5),
      frame(6, withLook(face(300), me)),
    ];
    const reid = { ...options, maxAppearanceDistance: 0.5, reidentifyWithin: 10 };
    expect(ids(assignTracks(away, reid)).at(-1)).toEqual([1]);
    expect(ids(assignTracks(away, { ...reid, reidentifyWithin: 0 })).at(-1)).toEqual([2]);
    expect(ids(assignTracks(away, reid, { cutIndexes: new Set([4]) })).at(-1)).toEqual([2]);
    const other = [...away.slice(0, -1), frame(6, withLook(face(300), someoneElse))];
    expect(ids(assignTracks(other, reid)).at(-1)).toEqual([2]);
    // Too long away: past maxGap + reidentifyWithin the track is over for good.
    expect(ids(assignTracks(away, { ...reid, reidentifyWithin: 1 })).at(-1)).toEqual([2]);
  });
});
