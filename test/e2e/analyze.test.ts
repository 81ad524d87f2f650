import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { csvRecords, expectCsvMatchesJson } from '../helpers/csv.ts';
import { redisUrl, testPrefix, videoInProgress, videoKeysLeft } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { generateTestVideo } from '../helpers/videos.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline } from '../../src/pipeline/index.ts';
import { CliProcesses } from '../helpers/cli-processes.ts';

// End to end with real Redis, ffmpeg and onnxruntime (a tiny synthetic ViT), through the CLI
// exactly as a user runs it.

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-e2e-'));

describeWithShared('fer-stream analyze (Redis + ffmpeg + onnxruntime)', () => {
  let modelDir: string;

  beforeAll(async () => {
    modelDir = (await buildSyntheticVitModelDir({ outDir: path.join(dir, 'vit-tiny'), preset: 'tiny', seed: 7 }))
      .outDir;
  });

  afterAll(async () => {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GRID video at --fps 5, --no-detect: 15 frames at 0.0, 0.2 … 2.8 s, probabilities summing to 1, CSV matching the JSON', () => {
    const out = path.join(dir, 'out');
    const run = spawnSync(
      process.execPath,
      [
        path.join(repo, 'bin/fer-stream.js'),
        'analyze',
        sharedPath('fixtures/video/grid_bbaf2n.mpg'),
        '--fps',
        '5',
        '--out',
        out,
        '--model',
        modelDir,
        '--no-detect',
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          REDIS_URL: redisUrl(),
          FER_REDIS_PREFIX: prefix,
          FER_EXECUTION_PROVIDERS: 'cpu',
          LOG_LEVEL: 'warn',
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(path.join(out, 'grid_bbaf2n.json'), 'utf8')) as VideoResult;
    expect(result.counts).toMatchObject({ sampled: 15, analysed: 15, failed: 0, withFace: 15 });
    // The summary line says how many classifications reuse saved, as the result counts them.
    const reused = result.frames.filter((f) => f.faces[0]!.reused).length;
    expect(result.counts.reusedFaces).toBe(reused);
    expect(run.stdout).toMatch(
      new RegExp(
        `grid_bbaf2n\\.mpg: 15 frames \\(0 failed${reused > 0 ? `, ${reused} of 15 faces reused` : ''}\\), dominant \\w+`,
      ),
    );
    // …and names every file it wrote.
    expect(run.stdout).toContain(
      `→ ${path.join(out, 'grid_bbaf2n.json')}, grid_bbaf2n.csv, grid_bbaf2n.tracks.csv, grid_bbaf2n.persons.csv, grid_bbaf2n.svg, grid_bbaf2n.png`,
    );
    expect(result.frames.map((f) => f.index)).toEqual([...Array(15).keys()]);
    expect(result.frames.map((f) => f.timestamp)).toEqual([
      0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2.2, 2.4, 2.6, 2.8,
    ]);
    expect(result.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
    expect(result.video).toMatchObject({
      width: 360,
      height: 288,
      frameWidth: 360,
      frameHeight: 288,
      durationSeconds: 3,
      videoCodec: 'mpeg1video',
    });
    for (const frame of result.frames) {
      expect(frame.faces).toHaveLength(1);
      const face = frame.faces[0]!;
      // Whole-frame mode: the "face" is the whole frame, with no detector score.
      expect(face.box).toEqual({ x: 0, y: 0, width: 360, height: 288 });
      expect(face.detectorScore).toBeNull();
      expect(face.probabilities).toHaveLength(7);
      expect(face.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(face.label).toBe(result.labels[face.probabilities.indexOf(Math.max(...face.probabilities))]);
    }
    // The synthetic model is random but deterministic: different frames give different outputs.
    expect(new Set(result.frames.map((f) => f.faces[0]!.probabilities[0])).size).toBeGreaterThan(1);

    const csv = readFileSync(path.join(out, 'grid_bbaf2n.csv'), 'utf8');
    expectCsvMatchesJson(csv, result);
    const rows = csvRecords(csv);
    expect(rows).toHaveLength(15);
    rows.forEach((row, i) => {
      const frame = result.frames[i]!;
      expect(row.video_id).toBe(result.videoId);
      expect(Number(row.frame_index)).toBe(frame.index);
      expect(Number(row.timestamp)).toBe(frame.timestamp);
      expect(row.face_label).toBe(frame.faces[0]!.label);
      expect(result.labels.map((label) => Number(row[`p_${label}`]))).toEqual(frame.faces[0]!.probabilities);
    });
    expect(readFileSync(path.join(out, 'grid_bbaf2n.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('--model DIR chooses the expression model and keeps face detection: the talking head is a face box, not the whole frame', () => {
    const out = path.join(dir, 'out-faces');
    const run = spawnSync(
      process.execPath,
      [
        path.join(repo, 'bin/fer-stream.js'),
        'analyze',
        sharedPath('fixtures/video/grid_bbaf2n.mpg'),
        '--fps',
        '2',
        '--out',
        out,
        '--model',
        modelDir,
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          REDIS_URL: redisUrl(),
          FER_REDIS_PREFIX: prefix,
          FER_EXECUTION_PROVIDERS: 'cpu',
          LOG_LEVEL: 'warn',
          FER_MODELS_DIR: path.join(dir, 'models'),
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /profile: compact — the vit profile's detector is not installed .*detecting faces with blazeface-back/,
    );
    const result = JSON.parse(readFileSync(path.join(out, 'grid_bbaf2n.json'), 'utf8')) as VideoResult;
    expect(result.model).toMatchObject({
      name: 'vit-tiny',
      detector: 'blazeface-back (below 0.8 confirmed by blazeface-front)',
    });
    expect(result.counts).toMatchObject({ sampled: 6, withFace: 6, tracks: 1 });
    for (const frame of result.frames) {
      const box = frame.faces[0]!.box;
      expect(frame.faces).toHaveLength(1);
      expect(frame.faces[0]!.detectorScore).toBeGreaterThan(0.6);
      // The GRID speaker's face is about a third of the 360×288 frame, around (100..210, 100..260).
      expect(box.width).toBeLessThan(200);
      expect(box.x).toBeGreaterThan(60);
    }
  });
  it('a model that cannot load (it loads while the videos are probed): exit 1 with its error, and nothing of the submitted videos left in Redis', async () => {
    const broken = path.join(dir, 'vit-broken');
    cpSync(modelDir, broken, { recursive: true });
    writeFileSync(path.join(broken, 'onnx', 'model.onnx'), Buffer.alloc(4096, 7));
    const brokenPrefix = `${prefix}-broken`;
    const videos = [sharedPath('fixtures/video/grid_bbaf2n.mpg'), sharedPath('fixtures/video/grid_lwbsza.mpg')];
    const run = spawnSync(
      process.execPath,
      [
        path.join(repo, 'bin/fer-stream.js'),
        'analyze',
        ...videos,
        '--no-detect',
        '--out',
        path.join(dir, 'out-broken'),
        '--model',
        broken,
      ],
      {
        cwd: repo,
        env: {
          ...process.env,
          REDIS_URL: redisUrl(),
          FER_REDIS_PREFIX: brokenPrefix,
          FER_EXECUTION_PROVIDERS: 'cpu',
          LOG_LEVEL: 'warn',
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toMatch(/cannot load ONNX model .*vit-broken/);
    expect(await videoKeysLeft(brokenPrefix)).toEqual([]);
    // They were submitted (and their producer jobs run) before the model failed: the cleanup is what left nothing.
    const redis = new Redis(redisUrl());
    try {
      const events = (await redis.xrange(`${brokenPrefix}:bull:videos:events`, '-', '+')).map(
        ([, fields]) => fields[fields.indexOf('event') + 1],
      );
      expect(events.filter((e) => e === 'added')).toHaveLength(2);
    } finally {
      redis.disconnect();
    }
  });

  it('Ctrl-C while frames are being classified: exit 130 once the batch running has finished, the video cancelled, nothing of it left in Redis', async () => {
    // 60 s at 25 frames/s: 1,500 frames, far more than the time to interrupt.
    const video = generateTestVideo(path.join(dir, 'long.mp4'), { seconds: 60, width: 320, height: 240 });
    const interruptPrefix = `${prefix}-interrupt`;
    const processes = new CliProcesses(20);
    const pipeline = createPipeline({ redisUrl: redisUrl(), prefix: interruptPrefix, config: loadConfig({}).pipeline });
    try {
      // Every frame classified (no reuse), so the tiny model takes long enough to be interrupted halfway.
      const child = processes.start(
        'analyze',
        ['analyze', video, '--fps', '25', '--no-detect', '--out', path.join(dir, 'out-interrupt'), '--model', modelDir],
        {
          ...process.env,
          REDIS_URL: redisUrl(),
          FER_REDIS_PREFIX: interruptPrefix,
          FER_EXECUTION_PROVIDERS: 'cpu',
          FER_REUSE_MAX_FRAMES: '0',
          LOG_LEVEL: 'warn',
        },
      );
      // Interrupted once its first frames are classified (read from Redis as `fer-stream status` would).
      const { framesDone } = await processes.until(
        'analyze to classify its first frames',
        () => videoInProgress(pipeline),
        60_000,
      );
      expect(framesDone).toBeLessThan(1000);
      const interruptedAt = Date.now();
      expect(await processes.kill(child, 'SIGINT'), child.output).toBe(130);
      // One batch of the tiny model, not the rest of the video (the command used to wait for its
      // jobs, then hang on open connections).
      expect(Date.now() - interruptedAt).toBeLessThan(20_000);
      expect(child.output).toMatch(/Ctrl-C: cancelling 1 unfinished video\(s\) and removing them from Redis/);
      expect(child.output).toMatch(
        /fer-stream analyze: interrupted \(SIGINT\): 1 video\(s\) cancelled, nothing of them left in Redis/,
      );
      expect(child.output).not.toMatch(/processing 1500\/1500/);
      // The chunks failed on purpose: no "will retry" warnings about them.
      expect(child.output).not.toMatch(/frame job failed/);
    } finally {
      await pipeline.close();
      await processes.stopAll();
    }
    expect(await videoKeysLeft(interruptPrefix)).toEqual([]);
  });
});
