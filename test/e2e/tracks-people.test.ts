// Tracks are people: a video that cuts from one fixture portrait to another, the second placed so
// that its face is exactly where the first one was (same centre, same size), so box overlap alone
// would join the two faces into one track. Through the whole pipeline with the compact profile
// (face-api's detector and expression net, converted from npm): the result must report one cut,
// at the change, and two tracks, one per person.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { iou } from '../../src/core/box.ts';
import type { Box, FrameAnalyzer } from '../../src/core/types.ts';
import { trackerOptions } from '../../src/app/tracking.ts';
import { createProfileAnalyzer } from '../../src/inference/profiles.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { mediaBinaries, startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { faceTracker, type VideoResult } from '../../src/results/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { ensureFaceApiModels } from '../../src/models/faceapi/convert.ts';

const run = promisify(execFile);
const { prefix, cleanup } = testPrefix(import.meta.url);
const W = 640;
const H = 480;

describeWithShared('tracks are people', () => {
  let tmp: string;
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;
  let analyzer: FrameAnalyzer;
  let probeAnalyzer: FrameAnalyzer;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-tracks-people-'));
    const config = loadConfig(
      { FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu', FER_INTRA_OP_THREADS: '1' },
      { pipeline: { fps: 4, chunkFrames: 4 } },
    );
    analyzer = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
    probeAnalyzer = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    producer = startProducer(pipeline);
    const tracking = trackerOptions(config);
    worker = startWorker(pipeline, {
      analyzer,
      finalizeOptions: { assignTracks: faceTracker(tracking), cutThreshold: config.faces.cutThreshold },
    });
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    await probeAnalyzer?.close();
    await pipeline?.close();
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  /** Renders one W×H frame of an ffmpeg filter graph over `photo` and returns its only face. */
  async function faceIn(photo: string, filter: string): Promise<Box> {
    const { stdout } = await run(
      mediaBinaries().ffmpeg,
      [
        '-v',
        'error',
        '-i',
        photo,
        '-filter_complex',
        filter,
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-',
      ],
      { encoding: 'buffer', maxBuffer: 16 << 20 },
    );
    const { faces } = await probeAnalyzer.analyze({ data: stdout, width: W, height: H });
    expect(faces, photo).toHaveLength(1);
    return faces[0]!.box;
  }

  it('a cut from one portrait to another at the same place: one cut at the change, two tracks', async () => {
    const first = sharedPath('fixtures', 'faces', 'wh_obama_portrait_smile.jpg');
    const second = sharedPath('fixtures', 'faces', 'pexels_neutral.jpg');
    const fit = `scale=${H}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
    const a = await faceIn(first, fit);
    const b = await faceIn(second, fit);
    // Scale the second photo so its face has the first one's size, and move it onto the first one's centre.
    const scale = a.height / b.height;
    const dx = Math.round(a.x + a.width / 2 - (b.x + b.width / 2 - W / 2) * scale - (W * scale) / 2);
    const dy = Math.round(a.y + a.height / 2 - (b.y + b.height / 2 - H / 2) * scale - (H * scale) / 2);
    const placed = `${fit},scale=${Math.round(W * scale)}:${Math.round(H * scale)}[p];color=black:s=${W}x${H}[bg];[bg][p]overlay=${dx}:${dy}:shortest=1,setsar=1`;
    const moved = await faceIn(second, placed);
    expect(iou(a, moved)).toBeGreaterThan(0.5); // overlap alone would have joined them

    const video = path.join(tmp, 'portraits.mp4');
    await run(mediaBinaries().ffmpeg, [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '25',
      '-t',
      '2',
      '-i',
      first,
      '-loop',
      '1',
      '-framerate',
      '25',
      '-t',
      '2',
      '-i',
      second,
      '-filter_complex',
      `[0:v]${fit},format=yuv420p[a];[1:v]${placed},format=yuv420p[b];[a][b]concat=n=2:v=1[out]`,
      '-map',
      '[out]',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    const { videoId } = await submitVideo(pipeline, { path: video });
    const statuses = await waitForVideos(pipeline, [videoId], { timeoutMs: 120_000 });
    expect(statuses.get(videoId)!.state, statuses.get(videoId)!.error?.message).toBe('completed');
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    expect(result.counts.sampled).toBe(16);
    expect(result.cuts.map((c) => c.timestamp)).toEqual([2]);
    expect(result.tracks.map((t) => [t.trackId, t.firstTimestamp, t.lastTimestamp, t.frames])).toEqual([
      [1, 0, 1.75, 8],
      [2, 2, 3.75, 8],
    ]);
    for (const track of result.tracks) expect(track.meanDetectorScore).toBeGreaterThan(0.5);
  });
});
