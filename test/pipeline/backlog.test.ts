// The backlog autoscalers scale on, against a real producer and Redis with no worker running:
// the frames counted equal the frames in the chunk jobs actually waiting (read job by job), one
// process at a time exports it (a lease; another takes over when it lapses), and the gauges show
// it only in the exporting process, so sum() over processes counts it once.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { registerBacklogMetrics } from '../../src/metrics/backlog.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { backlogExporter, createPipeline, readBacklog, submitVideo, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-backlog-'));
let pipeline: Pipeline;
let producer: ProducerHandle;

/** The truth, job by job: frames in every waiting, prioritized or delayed chunk. */
async function framesWaiting(): Promise<{ chunks: number; frames: number }> {
  const jobs = await pipeline.queues.frames.getJobs(['waiting', 'prioritized', 'delayed']);
  return { chunks: jobs.length, frames: jobs.reduce((n, j) => n + j.data.timestamps.length, 0) };
}

beforeAll(() => {
  pipeline = createPipeline({
    redisUrl: redisUrl(),
    prefix,
    config: loadConfig({}, { pipeline: { fps: 5, chunkFrames: 4, redisFrameBudgetBytes: 64 * 48 * 3 * 4 * 7 } })
      .pipeline,
  });
  producer = startProducer(pipeline);
});
afterAll(async () => {
  await producer?.close();
  await pipeline?.close();
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('frames backlog', () => {
  it('counts exactly the frames waiting (no worker: chunks pile up to the budget), exported by one process at a time', async () => {
    await submitVideo(pipeline, {
      path: generateTestVideo(path.join(dir, 'a.mp4'), { seconds: 3, width: 64, height: 48 }),
    });
    await submitVideo(pipeline, {
      path: generateTestVideo(path.join(dir, 'b.mp4'), { seconds: 2, width: 64, height: 48 }),
    });
    // The producer stops at the budget (7 chunks' worth of bytes): the backlog is then still.
    let truth = await framesWaiting();
    for (let waited = 0, still = 0; waited < 20_000 && still < 5; waited += 200) {
      await sleep(200);
      const now = await framesWaiting();
      still = now.frames === truth.frames && now.frames > 0 ? still + 1 : 0;
      truth = now;
    }
    expect(truth.chunks).toBeGreaterThanOrEqual(6);
    const backlog = await readBacklog(pipeline);
    expect({ chunks: backlog.chunks, frames: backlog.frames }).toEqual(truth);
    expect(backlog.oldestSeconds).toBeGreaterThan(0);

    // Two processes: one exporter; when it stops renewing, the other takes over.
    const first = backlogExporter(pipeline, 400);
    const second = backlogExporter(pipeline, 400);
    expect(await first()).toMatchObject(truth);
    expect(await second()).toBeNull();
    expect(await first()).not.toBeNull(); // renewed
    await sleep(600);
    expect(await second()).toMatchObject(truth);
    expect(await first()).toBeNull();

    // Only the exporter's gauges have series.
    const exporting = createMetricsRegistry();
    const other = createMetricsRegistry();
    registerBacklogMetrics(exporting, second);
    registerBacklogMetrics(other, first);
    const text = await exporting.metrics();
    expect(text).toContain(`ferstream_frames_backlog{unit="frames"} ${truth.frames}`);
    expect(text).toContain(`ferstream_frames_backlog{unit="chunks"} ${truth.chunks}`);
    expect(text).toMatch(/ferstream_frames_backlog_oldest_seconds \d/);
    expect(await other.metrics()).not.toMatch(/^ferstream_frames_backlog\{/m);
  }, 60_000);
});
