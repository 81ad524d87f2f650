import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { FerError } from '../../src/core/errors.ts';
import {
  createPipeline,
  getVideoResult,
  getVideoStatus,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { extractFrames, probeVideo, startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Files crafted to make ffmpeg read what it should not: an HLS playlist and an ffconcat script
// named .mp4 (naming a local file by absolute path, and a URL on a loopback server that counts
// requests), names that look like ffmpeg protocols (concat:, http:, file:), plus a video with
// damaged data in the middle. Real ffprobe/ffmpeg; the pipeline runs with the real producer.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-hostile-'));
const limits = loadConfig({}).pipeline;
let server: http.Server;
let requests = 0;
let base: string;
let real: string;

async function refusal(work: () => Promise<unknown>): Promise<FerError> {
  try {
    await work();
  } catch (error) {
    if (error instanceof FerError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  server = http.createServer((_request, response) => {
    requests += 1;
    response.end(readFileSync(real));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  real = generateTestVideo(path.join(dir, 'secret-outside.mp4'), { seconds: 2 });
  writeFileSync(
    path.join(dir, 'playlist.mp4'),
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${real}\n#EXTINF:2.0,\n${base}/segment.ts\n#EXT-X-ENDLIST\n`,
  );
  writeFileSync(path.join(dir, 'concat.mp4'), `ffconcat version 1.0\nfile '${real}'\nfile '${base}/part.mp4'\n`);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile files are refused, not opened', () => {
  for (const [name, kind] of [
    ['playlist.mp4', 'an HLS playlist'],
    ['concat.mp4', 'an ffconcat script'],
  ] as const) {
    it(`${name} (${kind}): ffprobe and ffmpeg both refuse it as unsupported_container; nothing it names is read`, async () => {
      const file = path.join(dir, name);
      const probed = await refusal(() => probeVideo(file, limits));
      expect(probed.code).toBe('unsupported_container');
      expect(probed.message).toContain(kind);
      expect(probed.message).not.toContain(dir);
      // The decoder on its own (as if the probe had been fooled) refuses it too.
      const fakeProbe = await probeVideo(real, limits);
      const decoded = await refusal(async () => {
        for await (const _ of extractFrames(file, fakeProbe, { fps: 1, maxSide: 64 }))
          throw new Error('a frame was decoded');
      });
      expect(decoded.code).toBe('unsupported_container');
      expect(requests).toBe(0);
    });
  }

  it('names that look like ffmpeg protocols are only ever file names', async () => {
    for (const trick of [
      `concat:${real}|${real}`,
      `${base}/x.mp4`,
      `file:${real}`,
      `subfile,,start,0,end,0,,:${real}`,
    ]) {
      const refused = await refusal(() => probeVideo(trick, limits));
      expect(refused.code, trick).toBe('video_not_found');
    }
    expect(requests).toBe(0);
  });

  it('a FIFO named .mp4 (opening it would block ffprobe) is refused before ffprobe runs', async () => {
    // A FIFO with no writer: opening it blocks, as a pathological input can.
    const fifo = path.join(dir, 'stuck.mp4');
    execFileSync('mkfifo', [fifo]);
    const stat = await import('node:fs/promises').then((f) => f.stat);
    expect((await stat(fifo)).isFIFO()).toBe(true);
    // probeVideo refuses non-regular files before ffprobe: a FIFO is not a video file.
    const refused = await refusal(() => probeVideo(fifo, { ...limits, probeTimeoutMs: 500 }));
    expect(refused.code).toBe('invalid_video');
    expect(refused.message).toBe('"stuck.mp4" is not a regular file');
  });
});

describe('through the pipeline', () => {
  const { prefix, cleanup } = testPrefix(import.meta.url);
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;

  beforeAll(() => {
    pipeline = createPipeline({
      redisUrl: redisUrl(),
      prefix,
      config: loadConfig({}, { pipeline: { chunkFrames: 4 } }).pipeline,
    });
    producer = startProducer(pipeline);
    worker = startWorker(pipeline, { analyzer: new CostFreeAnalyzer() });
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    await pipeline?.close();
    await cleanup();
  });

  it('a playlist named .mp4 fails only its video, with unsupported_container and no server path; a good video beside it completes', async () => {
    const bad = await submitVideo(pipeline, { path: path.join(dir, 'playlist.mp4'), name: 'holiday.mp4' });
    const good = await submitVideo(pipeline, { path: real, options: { fps: 2 } });
    await waitForVideos(pipeline, [bad.videoId, good.videoId], { timeoutMs: 60_000 });
    const failed = (await getVideoStatus(pipeline, bad.videoId))!;
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('unsupported_container');
    expect(failed.error?.message).not.toContain(dir);
    expect((await getVideoStatus(pipeline, good.videoId))!.state).toBe('completed');
    expect(requests).toBe(0);
  });

  it('damage in the middle of a stream is counted and reported in the result', async () => {
    const clean = path.join(dir, 'h264.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25:duration=4',
      '-c:v',
      'libx264',
      '-g',
      '25',
      '-pix_fmt',
      'yuv420p',
      clean,
    ]);
    const bytes = readFileSync(clean);
    // Flip bytes inside the second third of the file (frame data, past the headers).
    for (let offset = Math.floor(bytes.length / 3); offset < Math.floor(bytes.length / 3) + 3000; offset += 100)
      bytes[offset]! ^= 0xff;
    const damaged = path.join(dir, 'damaged.mp4');
    writeFileSync(damaged, bytes);
    const { videoId } = await submitVideo(pipeline, { path: damaged, options: { fps: 4 } });
    await waitForVideos(pipeline, [videoId], { timeoutMs: 60_000 });
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    expect(result.counts.sampled).toBe(16);
    expect(result.counts.decodeErrors).toBeGreaterThan(0);
    expect(result.warnings.join(' ')).toMatch(/ffmpeg reported \d+ decoding errors? in the video stream/);
    // The undamaged source has none.
    const { videoId: cleanId } = await submitVideo(pipeline, { path: clean, options: { fps: 4 } });
    await waitForVideos(pipeline, [cleanId], { timeoutMs: 60_000 });
    expect((await getVideoResult<VideoResult>(pipeline, cleanId))!.counts.decodeErrors).toBe(0);
  });
});
