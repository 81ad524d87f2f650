import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { VideoResult } from '../../src/results/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, listVideos } from '../../src/pipeline/index.ts';
import { CliProcesses } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix, videoInProgress, videoKeysLeft } from '../helpers/redis.ts';

// `fer-stream demo` as a new user runs it: nothing installed beyond npm packages (an empty models
// directory), only Redis. It must convert face-api's models, make its video, analyse it through
// Redis and print faces and expressions.

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-demo-'));

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/fer-stream.js'), ...args], { cwd: dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fer-stream demo', () => {
  afterAll(async () => {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('converts the compact models, analyses the sample-photo video through Redis and reports faces and expressions', async () => {
    const env = {
      ...process.env,
      REDIS_URL: redisUrl(),
      FER_REDIS_PREFIX: prefix,
      FER_MODELS_DIR: path.join(dir, 'models'),
      FER_EXECUTION_PROVIDERS: 'cpu',
      LOG_LEVEL: 'warn',
    };
    const run = await runCli(['demo', '--fps', '1'], env);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/first use: converting face-api's weights/);
    expect(run.stdout).toMatch(
      /12 frames sampled, 12 analysed, 0 failed; 12 with a face; \d+ faces in \d+ tracks? of \d+ persons?/,
    );
    expect(run.stdout).toMatch(/dominant expression: \w+/);

    const result = JSON.parse(readFileSync(path.join(dir, 'fer-stream-demo', 'result.json'), 'utf8')) as VideoResult;
    expect(result.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
    expect(result.model.name).toBe('faceapi-face-expression+mini-xception+flip');
    expect(result.model.detector).toBe('blazeface-back (below 0.8 confirmed by blazeface-front)');
    // Every sample photo shows at least one face; most show several.
    expect(result.frames.every((f) => f.faces.length >= 1)).toBe(true);
    expect(result.counts.faces).toBeGreaterThanOrEqual(2 * result.counts.sampled);
    for (const face of result.frames.flatMap((f) => f.faces)) {
      expect(face.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(result.labels).toContain(face.label);
    }
    // Tracks are people: the video changes photo every 2 s; each change is a cut, and no track
    // spans two photos.
    expect(result.cuts.map((c) => c.timestamp)).toEqual([2, 4, 6, 8, 10]);
    for (const track of result.tracks)
      expect(Math.floor(track.firstTimestamp / 2), `track ${track.trackId}`).toBe(Math.floor(track.lastTimestamp / 2));

    // A second run finds the converted models and does not convert again.
    const again = await runCli(['demo', '--fps', '0.25', '--out', path.join(dir, 'second')], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/first use/);
  }, 400_000);

  it('Ctrl-C while it analyses: exit 130, and its video is cancelled and removed, so the next demo finds no old jobs', async () => {
    const demoPrefix = `${prefix}-demo`;
    const env = {
      ...process.env,
      REDIS_URL: redisUrl(),
      FER_REDIS_PREFIX: prefix,
      FER_MODELS_DIR: path.join(dir, 'models'),
      FER_EXECUTION_PROVIDERS: 'cpu',
      FER_REUSE_MAX_FRAMES: '0',
      LOG_LEVEL: 'warn',
    };
    const processes = new CliProcesses(20);
    const pipeline = createPipeline({ redisUrl: redisUrl(), prefix: demoPrefix, config: loadConfig({}).pipeline });
    try {
      const before = new Set((await listVideos(pipeline, { limit: 10 })).videos.map((v) => v.videoId));
      // 30 frames/s of the 12 s video: 360 frames, every face classified.
      const child = processes.start('demo', ['demo', '--fps', '30', '--out', path.join(dir, 'interrupted')], env);
      const { videoId } = await processes.until(
        'the demo to classify its first frames',
        () => videoInProgress(pipeline, before),
        60_000,
      );
      expect(await processes.kill(child, 'SIGINT'), child.output).toBe(130);
      expect(child.output).toMatch(/Ctrl-C: cancelling the demo video and removing it from Redis/);
      expect(child.output).toMatch(/fer-stream demo: interrupted \(SIGINT\)/);
      expect(child.output).not.toMatch(/4\/4 result/);
      // The earlier demos' videos stay (their results are kept); nothing of this one, and no queued work.
      expect(videoId).toMatch(/^[0-9a-f-]{36}$/);
      expect(
        (await videoKeysLeft(demoPrefix)).filter(
          (key) => key.includes(videoId) || !/[0-9a-f]{8}-[0-9a-f]{4}/.test(key),
        ),
      ).toEqual([]);
    } finally {
      await pipeline.close();
      await processes.stopAll();
    }
  }, 120_000);
});
