import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFrameChunks, probeVideo, type SamplingOptions, type VideoProbe } from '../../src/producer/index.ts';
import { listFrameTimes } from '../../src/producer/frame-times.ts';
import { planSegments } from '../../src/producer/segments.ts';
import type { Segment } from '../../src/pipeline/index.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Segment-parallel production's two promises, checked against real ffmpeg: a segment starts at a
// keyframe, and the segments' frames put together are the whole decode's frames — the same
// pixels at the same indexes and times, none missed or doubled at a boundary.

describe('planSegments', () => {
  const keyframes = Array.from({ length: 25 }, (_, i) => i * 2.4); // every 2.4 s over 60 s
  const base = { durationSeconds: 60, startSeconds: 0, fps: 2, keyframes, segmentSeconds: 10 };

  it('keeps a video no longer than the span, and any video with splitting off, in one piece', () => {
    expect(planSegments({ ...base, durationSeconds: 10 })).toEqual([{ index: 0, firstIndex: 0, frames: null }]);
    expect(planSegments({ ...base, segmentSeconds: 0 })).toEqual([{ index: 0, firstIndex: 0, frames: null }]);
    expect(planSegments({ ...base, keyframes: [0] })).toEqual([{ index: 0, firstIndex: 0, frames: null }]);
  });

  it('starts each segment one sampling interval after the first sampled time at or past a keyframe, segments of at least the span', () => {
    const plan = planSegments(base);
    // Keyframes 9.6, 21.6, 33.6, 45.6 → first samples at or past them 20, 44, 68, 92 → boundaries +1.
    expect(plan.map((s) => s.firstIndex)).toEqual([0, 21, 45, 69, 93]);
    expect(plan.map((s) => s.frames)).toEqual([21, 24, 24, 24, null]);
    for (const segment of plan.slice(1)) {
      const keyframe = keyframes.filter((k) => k <= (segment.firstIndex - 1) / 2).pop()!;
      // Decoding starts one interval before the first frame, at or after its keyframe: at most one
      // interval of the previous segment decoded twice.
      expect((segment.firstIndex - 1) / 2 - keyframe).toBeLessThan(0.5);
    }
  });

  it('counts from the start time, and stops at the end time and the frame limit', () => {
    const fromStart = planSegments({ ...base, startSeconds: 5, endSeconds: 45 });
    expect(fromStart[0]!.firstIndex).toBe(0);
    // The keyframe 14.4 s is 9.4 s after the start: first sample at or past it 19 → boundary 20.
    expect(fromStart.map((s) => s.firstIndex)).toEqual([0, 20, 44, 68]);
    expect(fromStart.at(-1)!.frames).toBeNull();
    // 50 frames: the piece after 45 would be 2.5 s, shorter than half the span, so it stays with the one before.
    expect(planSegments({ ...base, maxFrames: 50 }).map((s) => s.firstIndex)).toEqual([0, 21]);
    expect(planSegments({ ...base, durationSeconds: 14 }).map((s) => s.firstIndex)).toEqual([0]);
  });
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-segments-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function decode(
  file: string,
  probe: VideoProbe,
  sampling: SamplingOptions,
  segment?: Segment,
): Promise<{ indexes: number[]; timestamps: number[]; frames: Buffer[] }> {
  const out = { indexes: [] as number[], timestamps: [] as number[], frames: [] as Buffer[] };
  const frameBytes = 96 * 72 * 3;
  for await (const chunk of extractFrameChunks(file, probe, {
    ...sampling,
    framesPerChunk: 4,
    ...(segment ? { segment } : {}),
  })) {
    for (let i = 0; i < chunk.frames; i++) {
      out.indexes.push(chunk.firstIndex + i);
      out.timestamps.push(chunk.timestamps[i]!);
      out.frames.push(Buffer.from(chunk.data.subarray(i * frameBytes, (i + 1) * frameBytes)));
    }
    chunk.release();
  }
  return out;
}

describeWithTools('segments decoded with real ffmpeg', ['ffmpeg'], () => {
  const videos: Record<string, string> = {};
  beforeAll(() => {
    // H.264 with B-frames and a keyframe every 2.4 s (25 fps) or ≈ 2 s (29.97 fps): phones' kind of stream.
    const h264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-g', '60', '-pix_fmt', 'yuv420p'];
    for (const rate of ['25', '30000/1001']) {
      videos[rate] = generateTestVideo(path.join(dir, `v${rate.replace('/', '_')}.mp4`), {
        seconds: 40,
        width: 96,
        height: 72,
        rate,
        extra: h264,
      });
    }
  });

  it('lists the keyframes from packet flags, in seconds from the start', async () => {
    const file = videos['25']!;
    const probe = await probeVideo(file, { maxDurationSeconds: 3600, maxFileBytes: 1e10, maxSourcePixels: 1e8 });
    const { keyframes } = await listFrameTimes(file, { startTime: probe.startTime });
    expect(keyframes.slice(0, 4)).toEqual([0, 2.4, 4.8, 7.2]);
    expect(keyframes.length).toBe(Math.ceil(40 / 2.4));
  });

  for (const [rate, fps, options] of [
    ['25', 2, {}],
    ['30000/1001', 2, {}],
    ['25', 3, { startSeconds: 3.3, endSeconds: 37 }],
    ['30000/1001', 5, { maxFrames: 150 }],
  ] as const) {
    it(`${rate} fps source at ${fps} frames/s ${JSON.stringify(options)}: the segments' frames are the whole decode's, index for index`, async () => {
      const file = videos[rate]!;
      const probe = await probeVideo(file, { maxDurationSeconds: 3600, maxFileBytes: 1e10, maxSourcePixels: 1e8 });
      const sampling: SamplingOptions = { fps, maxSide: 96, ...options };
      const { keyframes } = await listFrameTimes(file, { startTime: probe.startTime });
      const plan = planSegments({
        durationSeconds: probe.durationSeconds!,
        startSeconds: sampling.startSeconds ?? 0,
        endSeconds: sampling.endSeconds,
        fps,
        maxFrames: sampling.maxFrames,
        keyframes,
        segmentSeconds: 6,
      });
      expect(plan.length).toBeGreaterThanOrEqual(3);
      const whole = await decode(file, probe, sampling);
      const parts = await Promise.all(plan.map((segment) => decode(file, probe, sampling, segment)));
      for (const [i, part] of parts.entries()) {
        const segment = plan[i]!;
        expect(part.indexes[0]).toBe(segment.firstIndex);
        if (segment.frames !== null) expect(part.indexes.length).toBe(segment.frames);
      }
      const joined = {
        indexes: parts.flatMap((p) => p.indexes),
        timestamps: parts.flatMap((p) => p.timestamps),
        frames: parts.flatMap((p) => p.frames),
      };
      expect(joined.indexes).toEqual(whole.indexes.map((_, i) => i));
      expect(joined.timestamps).toEqual(whole.timestamps);
      // Pixels: the same source frame at every index, at every rate (the fps filter's round=up takes
      // the frame on screen at each sample's time; its default, round=near, broke ties between two
      // frames equally far from a sample by the last bit of the start offset's rounding).
      const differing = whole.frames
        .map((frame, i) => (frame.equals(joined.frames[i]!) ? -1 : i))
        .filter((i) => i >= 0);
      expect(differing).toEqual([]);
    });
  }
});
