import { expect, it } from 'vitest';
import {
  decodeStoredProbe,
  expectedFrameCount,
  sampledFrameTime,
  workingFrameSize,
} from '../../src/core/sampling-geometry.ts';

// The one home of where sampled frames lie and how big they are, and the typed probe the video
// record keeps (decoded with a named error, not cast).

it('frame n lies at start + n/fps; the count covers the span; the working size keeps the aspect and never upscales', () => {
  expect(sampledFrameTime(3, { fps: 2, startSeconds: 1.5 })).toBe(3);
  expect(sampledFrameTime(1, { fps: 3 })).toBe(0.333333);
  expect(expectedFrameCount(10, { fps: 2 })).toBe(20);
  expect(expectedFrameCount(10, { fps: 2, startSeconds: 4, endSeconds: 6.2, maxFrames: 3 })).toBe(3);
  expect(workingFrameSize({ width: 1920, height: 1080 }, 640)).toEqual({ width: 640, height: 360 });
  expect(workingFrameSize({ width: 1080, height: 1920 }, 480)).toEqual({ width: 270, height: 480 });
  expect(workingFrameSize({ width: 360, height: 288 }, 640)).toEqual({ width: 360, height: 288 });
});

it('decodes the stored probe with its types, and names the field of a record it cannot read', () => {
  const stored = {
    durationSeconds: null,
    codedWidth: 1920,
    codedHeight: 1080,
    width: 1080,
    height: 1920,
    rotation: 90,
    frameRate: 29.97,
    videoCodec: 'h264',
    audioCodec: null,
    container: 'mov,mp4',
    fileBytes: 5,
    startTime: 0,
    frameWidth: 360,
    frameHeight: 640,
  };
  expect(decodeStoredProbe(JSON.stringify(stored))).toEqual(stored);
  expect(() => decodeStoredProbe(JSON.stringify({ ...stored, frameWidth: undefined }))).toThrow(
    /stored probe: frameWidth is not a number/,
  );
  expect(() => decodeStoredProbe(JSON.stringify({ ...stored, videoCodec: 7 }))).toThrow(/videoCodec is not a string/);
});
