import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { listFrameTimes } from '../../src/producer/frame-times.ts';
import { extractFrameChunks, probeVideo, type SamplingOptions } from '../../src/producer/index.ts';
import { sampleSourceTimes, startSeekDecoding } from '../../src/producer/seek-decoding.ts';
import { Writable } from 'node:stream';
import { describeWithTools, toolAvailable } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Sparse sampling by seeking decodes each sample from its keyframe instead of every frame of the
// video. It is kept only because it gives the full decode's frames: the same indexes, times and
// pixels, byte for byte, on every kind of stream checked here.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-seek-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every ffmpeg this file starts goes through a wrapper that logs its arguments: the seeking way
// must really have run (one ffmpeg per sample, each with -ss), not the full decode twice.
const invocations = path.join(dir, 'ffmpeg-invocations.log');
if (toolAvailable('ffmpeg')) {
  const realFfmpeg = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim();
  const wrapper = path.join(dir, 'ffmpeg');
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${invocations}'\nexec '${realFfmpeg}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.env.FFMPEG_PATH = wrapper;
}

describe('sampleSourceTimes: the source frame each sample shows', () => {
  // A 10 fps stream from 0 to 2.9 s.
  const frames = Array.from({ length: 30 }, (_, i) => i / 10);
  const everything = { firstIndex: 0, limit: Infinity, end: Infinity };

  it('takes the last frame at or before each sample time, exact times included', () => {
    expect(sampleSourceTimes(frames, { fps: 1 / 0.75 }, everything)).toEqual([0, 0.7, 1.5, 2.2]);
    expect(sampleSourceTimes(frames, { fps: 1 }, everything)).toEqual([0, 1, 2]);
  });

  it('with a start time, sample 0 is the first frame from the start on (as a seek to it gives)', () => {
    expect(sampleSourceTimes(frames, { fps: 1, startSeconds: 0.35 }, everything)).toEqual([0.4, 1.3, 2.3]);
  });

  it('starts at a segment’s first index and stops at the limit, the end and the end of the stream', () => {
    expect(sampleSourceTimes(frames, { fps: 2 }, { firstIndex: 3, limit: 2, end: Infinity })).toEqual([1.5, 2]);
    expect(sampleSourceTimes(frames, { fps: 2 }, { firstIndex: 0, limit: Infinity, end: 1.5 })).toEqual([0, 0.5, 1]);
    // The last frame (2.9 s) shows until 3.0 s: a sample at 3.0 s is past the stream.
    expect(sampleSourceTimes(frames, { fps: 1 }, { firstIndex: 0, limit: Infinity, end: 10 })).toHaveLength(3);
    expect(sampleSourceTimes([], { fps: 1 }, everything)).toEqual([]);
  });

  it('a frame before the first sample time shows at time 0 even when the stream starts later', () => {
    expect(sampleSourceTimes([0.04, 1.04, 2.04], { fps: 1 }, everything)).toEqual([0.04, 0.04, 1.04, 2.04]);
  });
});

interface Sampled {
  readonly indexes: number[];
  readonly times: number[];
  readonly frames: Buffer[];
}

async function sample(file: string, options: Omit<SamplingOptions, 'maxSide'>): Promise<Sampled> {
  const probe = await probeVideo(file, loadConfig({}).pipeline);
  const out: Sampled = { indexes: [], times: [], frames: [] };
  for await (const chunk of extractFrameChunks(file, probe, {
    ...options,
    maxSide: 96,
    decodeThreads: 1,
    framesPerChunk: 2,
  })) {
    const frameBytes = chunk.width * chunk.height * 3;
    for (let i = 0; i < chunk.frames; i++) {
      out.indexes.push(chunk.firstIndex + i);
      out.times.push(chunk.timestamps[i]!);
      out.frames.push(Buffer.from(chunk.data.subarray(i * frameBytes, (i + 1) * frameBytes)));
    }
    chunk.release();
  }
  return out;
}

/** Seeks (`-ss` before an input) in the ffmpeg runs logged since `from` (a line count). */
function seeks(from: number): number {
  const lines = readFileSync(invocations, 'utf8').split('\n').slice(from, -1);
  return lines.reduce((n, line) => n + line.split(' -ss ').length - 1, 0);
}
const loggedRuns = () => {
  try {
    return readFileSync(invocations, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
};

/** `source`'s streams copied into another container (`out`'s extension), with `options`. */
function remux(source: string, out: string, options: readonly string[] = []): string {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', source, '-c', 'copy', ...options, out]);
  return out;
}

describeWithTools('sampling by seeking gives the full decode’s frames', ['ffmpeg'], () => {
  const videos: Record<string, string> = {};
  beforeAll(() => {
    // Phones' kind of stream: H.264 with B-frames, a keyframe every 2.4 s (25 fps) or ≈ 2 s (29.97 fps).
    const h264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-g', '60', '-pix_fmt', 'yuv420p'];
    const make = (name: string, rate: string, extra: string[]) =>
      (videos[name] = generateTestVideo(path.join(dir, name), { seconds: 41, width: 96, height: 72, rate, extra }));
    make('h264-25.mp4', '25', h264);
    make('h264-2997.mp4', '30000/1001', h264);
    make('h264-2997.mkv', '30000/1001', h264); // millisecond timestamps
    make('vp9.webm', '24', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '48']);
    // MPEG-TS starts at 1.4 s: times are counted from the container's start.
    videos['h264-2997.ts'] = remux(videos['h264-2997.mp4']!, path.join(dir, 'ts.ts'));
  }, 120_000);

  const cases: Array<{ video: string; sampling: Omit<SamplingOptions, 'maxSide'> }> = [
    { video: 'h264-25.mp4', sampling: { fps: 0.2 } },
    { video: 'h264-2997.mp4', sampling: { fps: 0.2 } },
    { video: 'h264-2997.mp4', sampling: { fps: 0.15, startSeconds: 3.3, endSeconds: 37 } },
    { video: 'h264-2997.mkv', sampling: { fps: 0.1 } },
    { video: 'vp9.webm', sampling: { fps: 0.2, maxFrames: 5 } },
    { video: 'h264-25.mp4', sampling: { fps: 0.2, segment: { firstIndex: 3, frames: 4 } } },
    { video: 'h264-2997.mp4', sampling: { fps: 0.25, segment: { firstIndex: 6, frames: null } } },
  ];
  for (const { video, sampling } of cases) {
    it(`${video}, ${JSON.stringify(sampling)}`, async () => {
      const file = videos[video]!;
      const full = await sample(file, { ...sampling, seekIntervalSeconds: 0 });
      const before = loggedRuns();
      const seeking = await sample(file, { ...sampling, seekIntervalSeconds: 4 });
      expect(full.indexes.length).toBeGreaterThan(2);
      expect(seeking.indexes).toEqual(full.indexes);
      expect(seeking.times).toEqual(full.times);
      const differing = seeking.frames.flatMap((frame, i) => (frame.equals(full.frames[i]!) ? [] : [full.indexes[i]]));
      expect(differing).toEqual([]);
      // One seek per sample (sample 0 of a video from 0 s needs none), eight samples per ffmpeg.
      const atZero = full.indexes[0] === 0 && !sampling.startSeconds ? 1 : 0;
      expect(seeks(before)).toBe(full.indexes.length - atZero);
      expect(loggedRuns() - before).toBe(Math.ceil(full.indexes.length / 8));
    });
  }

  // MPEG-TS has no index and may seek to the keyframe after the time asked: it is decoded from its
  // start, by seeking never, and gives the frames of the same stream in MP4.
  it('MPEG-TS is decoded from its start and gives the MP4’s frames, with a start time and in a segment', async () => {
    for (const sampling of [
      { fps: 0.2, startSeconds: 1.05 },
      { fps: 0.25, segment: { firstIndex: 3, frames: 4 } },
    ]) {
      const before = loggedRuns();
      const ts = await sample(videos['h264-2997.ts']!, { ...sampling, seekIntervalSeconds: 4 });
      expect(loggedRuns() - before).toBe(1);
      expect(seeks(before)).toBe(0);
      const mp4 = await sample(videos['h264-2997.mp4']!, { ...sampling, seekIntervalSeconds: 0 });
      expect(ts.indexes).toEqual(mp4.indexes);
      expect(ts.times).toEqual(mp4.times);
      expect(ts.frames.every((frame, i) => frame.equals(mp4.frames[i]!))).toBe(true);
    }
  });

  it('samples closer than the setting are decoded the full way', async () => {
    const before = loggedRuns();
    const sampled = await sample(videos['h264-25.mp4']!, { fps: 0.5, seekIntervalSeconds: 5 });
    expect(sampled.indexes).toHaveLength(21);
    expect(loggedRuns() - before).toBe(1);
    expect(seeks(before)).toBe(0);
  });

  it('lists every frame, and the keyframes among them, from the packets', async () => {
    const file = videos['h264-2997.ts']!;
    const probe = await probeVideo(file, loadConfig({}).pipeline);
    expect(probe.startTime).toBeGreaterThan(1);
    const { frames, keyframes } = await listFrameTimes(file, { startTime: probe.startTime });
    expect(frames).toHaveLength(Math.round((41 * 30000) / 1001));
    expect(frames[0]).toBeCloseTo(0, 6);
    expect(frames[1]! - frames[0]!).toBeCloseTo(1001 / 30000, 4);
    expect(keyframes.length).toBeGreaterThanOrEqual(20);
    expect(keyframes.every((time) => frames.some((frame) => Math.abs(frame - time) < 1e-9))).toBe(true);
  });

  it('a file cut short ends the sampling where its frames end, as the full decode does', async () => {
    // The index (moved to the front) lists every frame; the data stops at 60 % of the file.
    const whole = remux(videos['h264-2997.mp4']!, path.join(dir, 'faststart.mp4'), ['-movflags', '+faststart']);
    const bytes = readFileSync(whole);
    const cut = path.join(dir, 'cut.mp4');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const errors = { full: 0, seeking: 0 };
    const full = await sample(cut, { fps: 0.2, seekIntervalSeconds: 0, onDecodeError: () => (errors.full += 1) });
    const before = loggedRuns();
    const seeking = await sample(cut, { fps: 0.2, seekIntervalSeconds: 4, onDecodeError: () => (errors.seeking += 1) });
    expect(seeks(before)).toBeGreaterThan(0);
    expect(full.indexes.length).toBeGreaterThan(2);
    expect(full.indexes.length).toBeLessThan(8);
    expect(seeking.indexes).toEqual(full.indexes);
    expect(seeking.frames.every((frame, i) => frame.equals(full.frames[i]!))).toBe(true);
    expect(errors.full).toBeGreaterThan(0);
    expect(errors.seeking).toBeGreaterThan(0);
  });

  it('a run missing a frame reaches no index: its samples are decoded one by one, up to the first without one', async () => {
    const file = videos['h264-25.mp4']!;
    const decodeAt = async (times: number[]) => {
      const errors: string[] = [];
      const pieces: Buffer[] = [];
      const decoding = startSeekDecoding(file, times, {
        width: 96,
        height: 72,
        decodeThreads: 1,
        allowedContainers: ['mov'],
        onDecodeError: (line) => errors.push(line),
      });
      decoding.pipe(new Writable({ write: (piece: Buffer, _encoding, done) => (pieces.push(piece), done()) }));
      await decoding.finish();
      const all = Buffer.concat(pieces);
      return {
        frames: Array.from({ length: all.length / 20736 }, (_, i) => all.subarray(i * 20736, (i + 1) * 20736)),
        errors,
      };
    };
    const good = await decodeAt([5, 10, 15]);
    expect(good.frames).toHaveLength(3);
    expect(good.errors).toEqual([]);
    // 99 s is past the end: the run gives two frames of three, so it is redone sample by sample.
    const past = await decodeAt([5, 99, 10]);
    expect(past.frames).toHaveLength(1);
    expect(past.frames[0]!.equals(good.frames[0]!)).toBe(true);
    expect(past.errors).toEqual(['no frame could be decoded at 99.000 s: the video ends early']);
  });
});
