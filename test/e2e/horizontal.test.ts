import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCsv } from '../../src/results/csv.ts';
import type { VideoResult } from '../../src/results/types.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/model-dir.ts';
import { mediaBinaries } from '../../src/producer/binaries.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { CliProcesses, type CliChild } from '../helpers/cli-processes.ts';

// The horizontal shape: a producer process, two worker processes and the API, each its own child
// process (the real CLI), sharing nothing but one Redis and the upload directory. The test talks
// to the system only over HTTP: upload a video, poll its status, fetch its results.

const run = promisify(execFile);
const { prefix, cleanup } = testPrefix(import.meta.url);

const processes = new CliProcesses(250);
const { children } = processes;
let tmp: string;
let modelDir: string;
let videoFile: string;
let api: string;

const start = processes.start.bind(processes);
const until = processes.until.bind(processes);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-horizontal-'));
  modelDir = path.join(tmp, 'vit-tiny');
  await buildSyntheticVitModelDir({ outDir: modelDir, preset: 'tiny', seed: 7 });
  // 3 s, 25 frames/s, a moving test pattern: at 4 frames/s, 12 sampled frames at 0, 0.25, … 2.75 s.
  videoFile = path.join(tmp, 'pattern.mp4');
  await run(mediaBinaries().ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25:duration=3',
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'mpeg4',
    videoFile,
  ]);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl(),
    FER_REDIS_PREFIX: prefix,
    FER_UPLOAD_DIR: path.join(tmp, 'uploads'),
    FER_METRICS_PORT: '0',
    FER_EXECUTION_PROVIDERS: 'cpu',
    FER_INTRA_OP_THREADS: '1',
    FER_CHUNK_FRAMES: '2',
    FER_UPLOAD_SWEEP_SECONDS: '1',
    // The upload is deleted as soon as its video has finished (the default keeps it a day for the viewer).
    FER_UPLOAD_KEEP_SECONDS: '0',
    LOG_LEVEL: 'info',
    CI: 'true',
  };
  start('producer', ['producer'], env);
  start('worker-1', ['worker', '--model', modelDir, '--no-detect'], env);
  start('worker-2', ['worker', '--model', modelDir, '--no-detect'], env);
  const apiChild = start('api', ['api', '--port', '0', '--host', '127.0.0.1'], env);
  api = await until(
    'the API to listen',
    async () => {
      const line = apiChild.output.split('\n').find((l) => l.includes('"API listening"'));
      return line ? (JSON.parse(line) as { url: string }).url : undefined;
    },
    60_000,
  );
  await until('/readyz', async () => ((await fetch(`${api}/readyz`)).ok ? true : undefined), 30_000);
});

afterAll(async () => {
  const codes = await processes.stopAll();
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
  // Every process stops cleanly on SIGTERM.
  expect(codes).toEqual(Object.fromEntries(children.map((c) => [c.name, 0])));
});

/** `ferstream_frames_processed_total` from a process's own /metrics (its port is logged at start). */
async function framesProcessed(child: CliChild): Promise<number> {
  const line = child.output.split('\n').find((l) => l.includes('metrics on http://'));
  if (line === undefined) throw new Error(`${child.name} logged no metrics address`);
  const url = (JSON.parse(line) as { msg: string }).msg.replace(/^metrics on /, '');
  const text = await (await fetch(url)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('ferstream_frames_processed_total'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function upload(file: Blob, name: string, fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', file, name);
  const response = await fetch(`${api}/v1/videos`, { method: 'POST', body: form });
  return { status: response.status, body: (await response.json()) as { id: string } };
}

describe('horizontal: producer, two workers and the API as separate processes on one Redis', () => {
  it('takes an upload over HTTP, reports progress, and serves results as JSON, CSV and PNG', async () => {
    const { readFile } = await import('node:fs/promises');
    const submitted = await upload(new Blob([await readFile(videoFile)]), 'pattern.mp4', { fps: '4' });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id;

    const seen = new Set<string>();
    const done = await until(
      'the video to complete',
      async () => {
        const response = await fetch(`${api}/v1/videos/${id}`);
        expect(response.status).toBe(200);
        const status = (await response.json()) as {
          state: string;
          progress: { framesDone: number; fraction: number | null };
          errors: unknown[];
        };
        seen.add(status.state);
        if (status.state === 'failed') throw new Error(`video failed: ${JSON.stringify(status.errors)}`);
        return status.state === 'completed' ? status : undefined;
      },
      120_000,
    );
    expect(done).toMatchObject({
      state: 'completed',
      name: 'pattern.mp4',
      progress: { framesTotal: 12, framesDone: 12, framesFailed: 0, fraction: 1 },
      errors: [],
    });
    expect(seen.has('completed')).toBe(true);

    const result = (await (await fetch(`${api}/v1/videos/${id}/results`)).json()) as VideoResult;
    expect(result.videoId).toBe(id);
    expect(result.counts).toMatchObject({ sampled: 12, analysed: 12, failed: 0, withFace: 12, faces: 12 });
    expect(result.frames.map((f) => f.timestamp)).toEqual(Array.from({ length: 12 }, (_, i) => i * 0.25));
    for (const frame of result.frames) {
      expect(frame.faces).toHaveLength(1);
      expect(frame.faces[0]!.detectorScore).toBeNull();
      expect(frame.probabilities!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(result.labels).toContain(frame.label);
    }
    expect(result.labels).toHaveLength(7);
    expect(result.segments.reduce((n, s) => n + s.frames, 0)).toBe(12);
    expect(result.video).toMatchObject({ width: 320, height: 240 });

    const csv = await (await fetch(`${api}/v1/videos/${id}/results?format=csv`)).text();
    expect(csv).toBe(toCsv(result));
    expect(csv.trimEnd().split('\r\n')).toHaveLength(13);
    const png = Buffer.from(await (await fetch(`${api}/v1/videos/${id}/results?format=png`)).arrayBuffer());
    expect((await sharp(png).metadata()).format).toBe('png');
    await writeFile(path.join(tmp, 'timeline.png'), png);
    // The frames were analysed in the two worker processes: their own /metrics count them all.
    const processed = await Promise.all(
      ['worker-1', 'worker-2'].map((name) => framesProcessed(children.find((c) => c.name === name)!)),
    );
    expect(processed[0]! + processed[1]!).toBe(12);
    console.info(`horizontal: frames analysed per worker process: ${processed.join(', ')}`);
    // The API's sweep deletes the upload once its video has finished.
    await until(
      'the upload to be deleted',
      async () => ((await readdir(path.join(tmp, 'uploads'))).length === 0 ? true : undefined),
      30_000,
    );
  });

  it('fails a file that is not a video with a specific message, over the same processes', async () => {
    const submitted = await upload(new Blob(['this is not a video at all']), 'notes.mp4', {});
    expect(submitted.status).toBe(202);
    const status = await until(
      'the bad video to fail',
      async () => {
        const s = (await (await fetch(`${api}/v1/videos/${submitted.body.id}`)).json()) as {
          state: string;
          errors: Array<{ code: string; message: string }>;
        };
        return s.state === 'failed' ? s : undefined;
      },
      60_000,
    );
    expect(status.errors).toHaveLength(1);
    expect(status.errors[0]!.message.length).toBeGreaterThan(10);
    const results = await fetch(`${api}/v1/videos/${submitted.body.id}/results`);
    expect(results.status).toBe(409);
    expect(((await results.json()) as { error: { code: string } }).error.code).toBe('video_failed');
  });
});
