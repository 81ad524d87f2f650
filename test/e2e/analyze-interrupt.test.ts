import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, getVideoStatus, heldFrames, listVideoIds } from '../../src/pipeline/index.ts';
import { CliProcesses } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// Ctrl-C keeps finished work and ends at once: `analyze` of a short and a long video whose frames
// fill the frame budget (its producer waiting for room), interrupted after the short one
// completed: the short one's files are there, the long one is cancelled, the process exits 130
// within 10 s, and no frame byte stays held.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-analyze-interrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWithTools('analyze interrupted', ['ffmpeg'], () => {
  it('Ctrl-C after the short video completed: its JSON, CSV and chart are kept, the long one is cancelled, exit 130 within 10 s, the budget back to 0', async () => {
    const short = generateTestVideo(path.join(dir, 'short.mp4'), { seconds: 2, width: 160, height: 120 });
    const long = generateTestVideo(path.join(dir, 'long.mp4'), { seconds: 120, width: 160, height: 120 });
    const { prefix, cleanup } = testPrefix(import.meta.url);
    const out = path.join(dir, 'out');
    const frameBytes = 160 * 120 * 3;
    const pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: loadConfig({}).pipeline });
    const processes = new CliProcesses(50);
    try {
      const child = processes.start(
        'analyze',
        ['analyze', short, long, '--fps', '10', '--analyzer', 'cost-free', '--batch-delay-ms', '150', '--out', out],
        {
          ...process.env,
          REDIS_URL: redisUrl(),
          FER_REDIS_PREFIX: prefix,
          FER_METRICS_ENABLED: '0',
          FER_CHUNK_FRAMES: '8',
          // Three chunks: the long video's producer spends the run waiting for room.
          FER_REDIS_FRAME_BUDGET_BYTES: String(frameBytes * 8 * 3),
        },
      );
      await processes.until(
        "the short video's files",
        async () => (existsSync(path.join(out, 'short.png')) ? true : undefined),
        60_000,
      );
      expect((await heldFrames(pipeline)).bytes).toBeGreaterThan(0);
      const interruptedAt = Date.now();
      expect(await processes.kill(child, 'SIGINT'), child.output).toBe(130);
      expect(Date.now() - interruptedAt).toBeLessThan(10_000);
      for (const ext of ['json', 'csv', 'tracks.csv', 'persons.csv', 'svg', 'png'])
        expect(existsSync(path.join(out, `short.${ext}`)), ext).toBe(true);
      expect(existsSync(path.join(out, 'long.json'))).toBe(false);
      expect(child.output).toMatch(/Ctrl-C: cancelling 1 unfinished video\(s\)/);
      expect(child.output).toMatch(/short\.mp4: 20 frames \(0 failed\)/);
      expect(child.output).toMatch(
        /interrupted \(SIGINT\): 1 video\(s\) cancelled, nothing of them left in Redis; the results of 1 finished video are written above/,
      );
      // The long video is gone from Redis, the short one's result stays (as after any run), and no frame byte is held.
      const ids = await listVideoIds(pipeline);
      const states = await Promise.all(ids.map(async (id) => (await getVideoStatus(pipeline, id))?.state));
      expect(states).toEqual(['completed']);
      expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
    } finally {
      await processes.stopAll();
      await pipeline.close();
      await cleanup();
    }
  });
});
