import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/command.ts';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  failVideo,
  storeVideoResult,
  submitVideo,
  updateVideo,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { toCsv } from '../../src/results/csv.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { frames, MODEL } from '../results/fixtures.ts';

// `submit`, `status`, `results` as a user runs them (the real CLI in a child process) against
// Redis: output and exit codes. No producer or worker runs here: the test moves videos to their
// final states through the pipeline's own functions.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { prefix, cleanup } = testPrefix(import.meta.url);
let tmp: string;
let pipeline: Pipeline;

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin', 'fer-stream.js'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, REDIS_URL: redisUrl(), FER_REDIS_PREFIX: prefix, CI: 'true', ...env },
        encoding: 'utf8',
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-video-'));
  await writeFile(path.join(tmp, 'a.mp4'), 'bytes the producer would probe');
  await writeFile(path.join(tmp, 'b.mp4'), 'more bytes');
  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: loadConfig({}).pipeline });
});

afterAll(async () => {
  await pipeline.close();
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe('fer-stream submit / status / results', () => {
  let idA: string;
  let idB: string;

  it('submit queues every readable video and prints its id; a missing one makes the exit code partial', async () => {
    const out = await cli([
      'submit',
      path.join(tmp, 'a.mp4'),
      path.join(tmp, 'b.mp4'),
      path.join(tmp, 'missing.mp4'),
      '--fps',
      '5',
      '--max-frames',
      '20',
    ]);
    expect(out.code).toBe(EXIT_CODES.partial);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    [idA, idB] = lines.map((l) => l.split('\t')[0]!) as [string, string];
    expect(lines[0]!.split('\t')[1]).toBe(path.join(tmp, 'a.mp4'));
    expect(out.stderr).toMatch(/missing\.mp4: file not found/);
    const fields = await pipeline.redis.hgetall(pipeline.keys.video(idA));
    expect(fields.state).toBe('queued');
    expect(JSON.parse(fields.options!)).toMatchObject({ fps: 5, maxFrames: 20 });
  });

  it("submit --callback-url stores where the video's end is announced; a non-http URL is bad usage", async () => {
    const out = await cli(['submit', path.join(tmp, 'a.mp4'), '--callback-url', 'https://hooks.example.com/fer']);
    expect(out.code).toBe(EXIT_CODES.ok);
    const id = out.stdout.split('\t')[0]!;
    expect(await pipeline.redis.hget(pipeline.keys.video(id), 'callbackUrl')).toBe('https://hooks.example.com/fer');
    expect((await cli(['submit', path.join(tmp, 'a.mp4'), '--callback-url', 'ftp://x'])).code).toBe(EXIT_CODES.usage);
  });

  it('submit: bad usage exits 2, nothing submittable exits 1', async () => {
    expect((await cli(['submit'])).code).toBe(EXIT_CODES.usage);
    expect((await cli(['submit', path.join(tmp, 'a.mp4'), '--fps', 'zero'])).code).toBe(EXIT_CODES.usage);
    expect((await cli(['submit', path.join(tmp, 'missing.mp4')])).code).toBe(EXIT_CODES.failure);
  });

  it('status prints state and progress; results before completion exits 5 (pending)', async () => {
    const status = await cli(['status', idA]);
    expect(status.code).toBe(EXIT_CODES.ok);
    expect(status.stdout).toMatch(/state:\s+queued/);
    expect(status.stdout).toMatch(/name:\s+a\.mp4/);
    const json = await cli(['status', idA, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: idA, state: 'queued', errors: [] });
    const early = await cli(['results', idA]);
    expect(early.code).toBe(EXIT_CODES.pending);
    expect(early.stderr).toMatch(/queued, not finished yet/);
    const waited = await cli(['status', idA, '--wait', '--timeout', '0.5']);
    expect(waited.code).toBe(EXIT_CODES.pending);
  });

  it('results writes the stored result as JSON, CSV and PNG once the video completed', async () => {
    const result = buildVideoResult({
      videoId: idA,
      frames: frames(['happy', null, 'sad']),
      video: { name: 'a.mp4', durationSeconds: 1.5 },
      model: MODEL,
    });
    await updateVideo(pipeline, idA, { state: 'processing' });
    expect(await storeVideoResult(pipeline, idA, result, new Date())).toBe(true);

    const json = await cli(['results', idA]);
    expect(json.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(result)));
    const csvFile = path.join(tmp, 'a.csv');
    expect((await cli(['results', idA, '--format', 'csv', '--out', csvFile])).code).toBe(EXIT_CODES.ok);
    expect(await readFile(csvFile, 'utf8')).toBe(toCsv(result));
    const pngFile = path.join(tmp, 'a.png');
    expect((await cli(['results', idA, '--format', 'png', '--out', pngFile])).code).toBe(EXIT_CODES.ok);
    expect((await sharp(pngFile).metadata()).format).toBe('png');
    expect((await cli(['status', idA, '--wait'])).code).toBe(EXIT_CODES.ok);
    expect((await cli(['results', idA, '--format', 'xml'])).code).toBe(EXIT_CODES.usage);

    // A reader that stops early (`results ID | head -c 10`) on a result far larger than a pipe
    // holds: the command ends quietly, no EPIPE stack.
    const { videoId: bigId } = await submitVideo(pipeline, { path: path.join(tmp, 'a.mp4') });
    const big = buildVideoResult({
      videoId: bigId,
      frames: frames(Array.from({ length: 3000 }, (_, i) => (i % 2 ? 'happy' : 'sad'))),
      video: { name: 'a.mp4' },
      model: MODEL,
    });
    await updateVideo(pipeline, bigId, { state: 'processing' });
    expect(await storeVideoResult(pipeline, bigId, big, new Date())).toBe(true);
    expect(JSON.stringify(big).length).toBeGreaterThan(1 << 20);
    const piped = await new Promise<{ code: number | null; stderr: string; read: number }>((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fer-stream.js'), 'results', bigId], {
        cwd: repoRoot,
        env: { ...process.env, REDIS_URL: redisUrl(), FER_REDIS_PREFIX: prefix, CI: 'true' },
      });
      let stderr = '';
      let read = 0;
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', (d: Buffer) => {
        read = d.length;
        child.stdout.destroy();
      });
      child.on('close', (code) => resolve({ code, stderr, read }));
    });
    expect(piped.read).toBeGreaterThan(0);
    expect(piped.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(piped.code).toBe(EXIT_CODES.ok);
  });

  it('a failed video: status and results exit 1 with its reason; an unknown id exits 1', async () => {
    await failVideo(pipeline, idB, { code: 'invalid_video', message: 'no video stream in the file' });
    const status = await cli(['status', idB]);
    expect(status.code).toBe(EXIT_CODES.failure);
    expect(status.stdout).toMatch(/error:\s+no video stream in the file \(invalid_video\)/);
    const results = await cli(['results', idB]);
    expect(results.code).toBe(EXIT_CODES.failure);
    expect(results.stderr).toMatch(/failed: no video stream/);
    const unknown = await cli(['status', 'no-such-video']);
    expect(unknown.code).toBe(EXIT_CODES.failure);
    expect(unknown.stderr).toMatch(/no video with id no-such-video/);
  });

  it('list shows videos newest first (by state too); cancel keeps an open one as cancelled and refuses a finished one; cancel --delete removes one; an unknown id exits 1', async () => {
    const listed = JSON.parse((await cli(['list', '--json'])).stdout) as {
      videos: Array<{ id: string; state: string }>;
    };
    const ids = listed.videos.map((v) => v.id);
    expect(ids.indexOf(idB)).toBeLessThan(ids.indexOf(idA));
    const text = (await cli(['list', '--limit', '1'])).stdout.trim().split('\n');
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(new RegExp(`^${ids[0]}  \\w+ `));
    const failed = JSON.parse((await cli(['list', '--state', 'failed', '--json'])).stdout) as {
      videos: Array<{ state: string }>;
    };
    expect(failed.videos.every((v) => v.state === 'failed')).toBe(true);
    expect((await cli(['list', '--state', 'lost'])).code).toBe(EXIT_CODES.usage);

    // An open video is cancelled and kept as such; a finished one is refused (nothing to cancel).
    const { videoId: open } = await submitVideo(pipeline, { path: path.join(tmp, 'never-produced.mp4') });
    const cancelled = await cli(['cancel', open, idA]);
    expect(cancelled.code).toBe(EXIT_CODES.failure);
    expect(cancelled.stdout.trim()).toBe(`${open}: cancelled`);
    expect(cancelled.stderr).toContain(
      `${idA}: already finished, nothing to cancel (fer-stream cancel --delete ${idA} removes it)`,
    );
    expect((await cli(['status', open])).stdout).toMatch(/cancelled/);

    const out = await cli(['cancel', '--delete', idA, 'no-such-video']);
    expect(out.code).toBe(EXIT_CODES.failure);
    expect(out.stdout).toMatch(new RegExp(`^${idA}: (cancelled and deleted|deleted)$`, 'm'));
    expect(out.stderr).toContain('no-such-video: no such video');
    expect((await cli(['status', idA])).code).toBe(EXIT_CODES.failure);
  });

  it('exits 4 with a clear message when Redis is unreachable', async () => {
    const out = await cli(['status', 'whatever'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(out.code).toBe(EXIT_CODES.unavailable);
    expect(out.stderr.trim()).toMatch(
      /^fer-stream status: Redis unreachable at redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): is it running\? \(set REDIS_URL\)$/,
    );
  });
});
