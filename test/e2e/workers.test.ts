import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import {
  createPipeline,
  getVideoResult,
  heldFrames,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { generateTestVideo } from '../helpers/videos.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

// Ten videos of different lengths submitted at once, two worker processes (real tiny ViT through
// onnxruntime): every video completes with its exact frame count, and inference batches mix
// frames of different videos (each worker logs its batches' composition at debug level).

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-workers-'));

interface Batch {
  size: number;
  videos: string[];
  frames: string[];
}

function spawnWorker(modelDir: string, batches: Batch[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [path.join(repo, 'bin/fer-stream.js'), 'worker', '--model', modelDir, '--no-detect'],
    {
      cwd: repo,
      env: {
        ...process.env,
        REDIS_URL: redisUrl(),
        FER_REDIS_PREFIX: prefix,
        FER_EXECUTION_PROVIDERS: 'cpu',
        FER_METRICS_ENABLED: '0',
        LOG_LEVEL: 'debug',
        CI: 'true',
        FER_WORKER_CONCURRENCY: '4',
        FER_MAX_BATCH_SIZE: '8',
        // Every frame through the classifier: this test counts the frames in the batches.
        FER_REUSE_MAX_FRAMES: '0',
        FER_MAX_DELAY_MS: '20',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; batch?: Batch };
      if (entry.msg === 'inference batch' && entry.batch) batches.push(entry.batch);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

describe('ten videos, two worker processes', () => {
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  const batches: [Batch[], Batch[]] = [[], []];
  let workers: Array<ReturnType<typeof spawnWorker>> = [];

  beforeAll(async () => {
    const modelDir = (await buildSyntheticVitModelDir({ outDir: path.join(dir, 'vit-tiny'), preset: 'tiny', seed: 3 }))
      .outDir;
    workers = [spawnWorker(modelDir, batches[0]), spawnWorker(modelDir, batches[1])];
    const config = loadConfig({}, { pipeline: { chunkFrames: 4, producerConcurrency: 10 } });
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    producer = startProducer(pipeline);
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await producer?.close();
    await pipeline?.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every video completes with its exact frame count; batches mix videos; SIGTERM stops workers cleanly', async () => {
    // 1.0 s … 3.25 s of 25 fps in steps of 0.25 s at --fps 4. A sample is taken at n / 4 s while a
    // frame is on screen: the last of ⌈25 s⌉ frames shows until ⌈25 s⌉ / 25 (1.25 s of testsrc is 32
    // frames, on screen until 1.28 s: samples 0 … 1.25 s, 6 of them). 4, 6, 7, 8, 8, 10, … frames.
    const videos = Array.from({ length: 10 }, (_, i) => {
      const seconds = 1 + i * 0.25;
      return {
        file: generateTestVideo(path.join(dir, `v${i}.mp4`), { seconds, width: 96, height: 72 }),
        frames: Math.ceil((4 * Math.ceil(25 * seconds)) / 25 - 1e-9),
      };
    });
    const ids = await Promise.all(
      videos.map((v) => submitVideo(pipeline, { path: v.file, options: { fps: 4 } }).then((r) => r.videoId)),
    );
    const statuses = await waitForVideos(pipeline, ids, { timeoutMs: 180_000, pollMs: 100 });

    for (const [i, id] of ids.entries()) {
      const status = statuses.get(id)!;
      expect(status.state, status.error?.message).toBe('completed');
      const result = (await getVideoResult<VideoResult>(pipeline, id))!;
      expect(result.counts).toMatchObject({ sampled: videos[i]!.frames, analysed: videos[i]!.frames, failed: 0 });
      expect(result.frames.map((f) => f.timestamp)).toEqual(Array.from({ length: videos[i]!.frames }, (_, n) => n / 4));
    }
    expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });

    // Both processes worked, and batches held frames of several videos.
    expect(batches[0].length).toBeGreaterThan(0);
    expect(batches[1].length).toBeGreaterThan(0);
    const all = [...batches[0], ...batches[1]];
    expect(all.reduce((n, b) => n + b.size, 0)).toBe(videos.reduce((n, v) => n + v.frames, 0));
    const mixed = all.filter((b) => b.videos.length > 1);
    expect(mixed.length).toBeGreaterThan(0);
    for (const b of all) expect(b.videos.every((v) => ids.includes(v))).toBe(true);

    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  });
});
