import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  extractFrameChunks,
  extractFrames,
  mediaBinaries,
  probeVideo,
  type VideoFrame,
} from '../../src/producer/index.ts';
import { expectedFrameCount, workingFrameSize as workingSize } from '../../src/core/sampling-geometry.ts';
import { generateAudioOnly, generateTestVideo } from '../helpers/videos.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-producer-'));
const LIMITS = { maxDurationSeconds: 3600, maxFileBytes: 1e10, maxSourcePixels: 1e8 };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(frames: AsyncIterable<VideoFrame>): Promise<VideoFrame[]> {
  const out: VideoFrame[] = [];
  for await (const f of frames) out.push({ ...f, data: Buffer.from(f.data) });
  return out;
}

describe('media binaries', () => {
  it('resolves ffmpeg and ffprobe (PATH first)', () => {
    const { ffmpeg, ffprobe } = mediaBinaries();
    expect(execFileSync(ffmpeg, ['-version'], { encoding: 'utf8' })).toMatch(/^ffmpeg version/);
    expect(execFileSync(ffprobe, ['-version'], { encoding: 'utf8' })).toMatch(/^ffprobe version/);
  });
});

describeWithShared('GRID video', () => {
  it('probes it and samples 15 frames at 0.0 … 2.8 s with --fps 5', async () => {
    const file = sharedPath('fixtures/video/grid_bbaf2n.mpg');
    const probe = await probeVideo(file, LIMITS);
    expect(probe).toMatchObject({
      durationSeconds: 3,
      width: 360,
      height: 288,
      rotation: 0,
      frameRate: 25,
      videoCodec: 'mpeg1video',
      audioCodec: 'mp2',
    });
    const frames = await collect(extractFrames(file, probe, { fps: 5, maxSide: 640 }));
    expect(frames.map((f) => f.timestamp)).toEqual([
      0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2.2, 2.4, 2.6, 2.8,
    ]);
    expect(frames.map((f) => f.index)).toEqual([...Array(15).keys()]);
    expect(expectedFrameCount(probe.durationSeconds!, { fps: 5 })).toBe(15);
  });
});

describe('frame extraction', () => {
  const video = generateTestVideo(path.join(dir, 'testsrc.mp4'), { seconds: 4, width: 320, height: 240 });

  it('scales to the working resolution (aspect kept, never upscaled) and yields rgb24 frames', async () => {
    const probe = await probeVideo(video, LIMITS);
    expect(workingSize(probe, 80)).toEqual({ width: 80, height: 60 });
    expect(workingSize(probe, 1000)).toEqual({ width: 320, height: 240 });
    const frames = await collect(extractFrames(video, probe, { fps: 2, maxSide: 80 }));
    expect(frames).toHaveLength(8);
    for (const f of frames) {
      expect([f.width, f.height, f.data.length]).toEqual([80, 60, 80 * 60 * 3]);
    }
    // testsrc moves: consecutive sampled frames differ.
    expect(frames[0]!.data.equals(frames[1]!.data)).toBe(false);
  });

  it('honours start, end and max frames; timestamps count from the video start', async () => {
    const probe = await probeVideo(video, LIMITS);
    const window = await collect(
      extractFrames(video, probe, { fps: 4, maxSide: 64, startSeconds: 1, endSeconds: 2.5 }),
    );
    expect(window.map((f) => f.timestamp)).toEqual([1, 1.25, 1.5, 1.75, 2, 2.25]);
    expect(expectedFrameCount(4, { fps: 4, startSeconds: 1, endSeconds: 2.5 })).toBe(6);
    const capped = await collect(extractFrames(video, probe, { fps: 10, maxSide: 64, maxFrames: 7 }));
    expect(capped).toHaveLength(7);
  });

  it('decodes exact colours', async () => {
    // Lossless RGB video (ffv1 bgr0) made from known pixels: a red, green, blue, white row pattern.
    const raw = path.join(dir, 'pattern.rgb');
    const colours = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
    ];
    const frame = Buffer.alloc(32 * 16 * 3);
    for (let p = 0; p < 32 * 16; p++) frame.set(colours[Math.floor(p / 32) % 4]!, p * 3);
    writeFileSync(raw, Buffer.concat(Array.from({ length: 10 }, () => frame)));
    const video = path.join(dir, 'pattern.mkv');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      '32x16',
      '-r',
      '10',
      '-i',
      raw,
      '-c:v',
      'ffv1',
      '-pix_fmt',
      'bgr0',
      video,
    ]);
    const probe = await probeVideo(video, LIMITS);
    const [first] = await collect(extractFrames(video, probe, { fps: 1, maxSide: 64 }));
    expect(first!.data.equals(frame)).toBe(true);
  });

  it('applies the display rotation: a 160x120 video rotated by its matrix comes out 120x160 and upright', async () => {
    const plain = generateTestVideo(path.join(dir, 'plain.mp4'), { seconds: 1 });
    const rotated = path.join(dir, 'rotated.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const probe = await probeVideo(rotated, LIMITS);
    // ffmpeg stores this as a display matrix of 90° counter-clockwise = 270° clockwise.
    expect(probe).toMatchObject({ codedWidth: 160, codedHeight: 120, width: 120, height: 160, rotation: 270 });
    const [upright] = await collect(extractFrames(rotated, probe, { fps: 1, maxSide: 640 }));
    const [original] = await collect(extractFrames(plain, await probeVideo(plain, LIMITS), { fps: 1, maxSide: 640 }));
    expect([upright!.width, upright!.height]).toEqual([120, 160]);
    // Pixel (x, y) of the upright frame is pixel (159 - y, x) of the stored one (90° counter-clockwise).
    let diff = 0;
    for (let y = 0; y < 160; y++) {
      for (let x = 0; x < 120; x++) {
        for (let c = 0; c < 3; c++)
          diff += Math.abs(upright!.data[(y * 120 + x) * 3 + c]! - original!.data[(x * 160 + (159 - y)) * 3 + c]!);
      }
    }
    expect(diff / (120 * 160 * 3)).toBeLessThan(1);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    const probe = await probeVideo(video, LIMITS);
    let n = 0;
    for await (const _ of extractFrames(video, probe, { fps: 25, maxSide: 64 })) if (++n === 3) break;
    expect(n).toBe(3);
  });
});

describe('frame chunks', () => {
  const video = generateTestVideo(path.join(dir, 'chunks.mp4'), { seconds: 3, width: 96, height: 64 });

  it('packs consecutive frames into chunks byte for byte as extractFrames yields them, the last one partial', async () => {
    const probe = await probeVideo(video, LIMITS);
    const sampling = { fps: 10, maxSide: 96 };
    const frames = await collect(extractFrames(video, probe, sampling));
    expect(frames).toHaveLength(30);
    const chunks: Array<{ firstIndex: number; frames: number; timestamps: readonly number[]; data: Buffer }> = [];
    for await (const chunk of extractFrameChunks(video, probe, { ...sampling, framesPerChunk: 8 })) {
      chunks.push({ ...chunk, data: Buffer.from(chunk.data) });
      chunk.release();
    }
    expect(chunks.map((c) => [c.firstIndex, c.frames])).toEqual([
      [0, 8],
      [8, 8],
      [16, 8],
      [24, 6],
    ]);
    const frameBytes = 96 * 64 * 3;
    for (const chunk of chunks) {
      expect(chunk.data.length).toBe(chunk.frames * frameBytes);
      for (let i = 0; i < chunk.frames; i++) {
        const frame = frames[chunk.firstIndex + i]!;
        expect(chunk.timestamps[i]).toBe(frame.timestamp);
        expect(chunk.data.subarray(i * frameBytes, (i + 1) * frameBytes).equals(frame.data)).toBe(true);
      }
    }
  });

  it('a shorter first chunk (firstChunkFrames), then full ones, the frames unchanged', async () => {
    const probe = await probeVideo(video, LIMITS);
    const sampling = { fps: 10, maxSide: 96 };
    const frames = await collect(extractFrames(video, probe, sampling));
    const chunks: Array<{ firstIndex: number; frames: number; data: Buffer }> = [];
    for await (const chunk of extractFrameChunks(video, probe, {
      ...sampling,
      framesPerChunk: 8,
      firstChunkFrames: 3,
    })) {
      chunks.push({ ...chunk, data: Buffer.from(chunk.data) });
      chunk.release();
    }
    expect(chunks.map((c) => [c.firstIndex, c.frames])).toEqual([
      [0, 3],
      [3, 8],
      [11, 8],
      [19, 8],
      [27, 3],
    ]);
    const frameBytes = 96 * 64 * 3;
    for (const chunk of chunks) {
      for (let i = 0; i < chunk.frames; i++)
        expect(
          chunk.data.subarray(i * frameBytes, (i + 1) * frameBytes).equals(frames[chunk.firstIndex + i]!.data),
        ).toBe(true);
    }
  });

  it('rotates its buffers and decodes no further while the consumer holds them all', async () => {
    const probe = await probeVideo(video, LIMITS);
    const held: Array<{ data: Buffer; release(): void }> = [];
    const seen = new Set<ArrayBufferLike>();
    const iterator = extractFrameChunks(video, probe, { fps: 10, maxSide: 96, framesPerChunk: 4, buffers: 2 })[
      Symbol.asyncIterator
    ]();
    held.push((await iterator.next()).value!, (await iterator.next()).value!);
    // Both buffers are out: the next chunk cannot be filled until one comes back.
    const third = iterator.next();
    const waited = await Promise.race([
      third.then(() => 'filled'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 300)),
    ]);
    expect(waited).toBe('waiting');
    held[0]!.release();
    const next = (await third).value!;
    for (const chunk of [...held, next]) seen.add(chunk.data.buffer);
    expect(seen.size).toBe(2); // the third chunk reuses the released buffer
    await iterator.return(undefined);
  });
});

describe('probe validation: bad input gets a specific error', () => {
  it.each([
    ['empty', () => writeAndReturn('empty.mp4', ''), 'empty_file', /is empty \(0 bytes\)/],
    [
      'not a video',
      () => writeAndReturn('text.mp4', 'hello\n'.repeat(100)),
      'invalid_video',
      /not a readable video file/,
    ],
    [
      'audio only',
      () => generateAudioOnly(path.join(dir, 'audio.m4a')),
      'no_video_stream',
      /no video stream \(found: audio\/aac\)/,
    ],
    ['missing', () => path.join(dir, 'missing.mp4'), 'video_not_found', /cannot read video file/],
  ])('%s', async (_name, make, code, message) => {
    await expect(probeVideo(make(), LIMITS)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('enforces the configured limits, naming them', async () => {
    const video = generateTestVideo(path.join(dir, 'limits.mp4'), { seconds: 2, width: 320, height: 240 });
    await expect(probeVideo(video, { ...LIMITS, maxDurationSeconds: 1 })).rejects.toMatchObject({
      code: 'video_too_long',
      message: expect.stringMatching(/2\.0 s, over the limit of 1 s \(FER_MAX_DURATION_SECONDS\)/),
    });
    await expect(probeVideo(video, { ...LIMITS, maxSourcePixels: 320 * 240 - 1 })).rejects.toMatchObject({
      code: 'frame_too_large',
      message: expect.stringContaining('FER_MAX_SOURCE_PIXELS'),
    });
    await expect(probeVideo(video, { ...LIMITS, maxFileBytes: 100 })).rejects.toMatchObject({
      code: 'file_too_large',
      message: expect.stringContaining('FER_MAX_FILE_BYTES'),
    });
  });
});

function writeAndReturn(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}
