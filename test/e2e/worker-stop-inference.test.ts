import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { usableCpus } from '../../src/core/usable-cpus.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import { createPipeline, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { CliProcesses, logLines, type CliChild } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// A worker stopped at once (a second SIGTERM) while a real model runs. Ending the process while a
// session thread is inside onnxruntime aborts it (exit 134, "terminate called after throwing an
// instance of 'Napi::Error'"), so the forced stop drops the queued runs and lets the ones in
// progress end first. A ViT of ViT-S/16's width (384, 6 layers) keeps each batch long enough to
// be in progress when the signal comes; cost-free workers (faults-workers.test.ts) cannot show it.

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-worker-stop-'));
let pipeline: Pipeline;
let producer: ProducerHandle;
let processes: CliProcesses;
let modelDir: string;

function startWorker(name: string): CliChild {
  const env = {
    ...process.env,
    REDIS_URL: redisUrl(),
    FER_REDIS_PREFIX: prefix,
    FER_METRICS_ENABLED: '0',
    CI: 'true',
    LOG_LEVEL: 'debug',
    FER_EXECUTION_PROVIDERS: 'cpu',
    FER_REUSE_MAX_FRAMES: '0',
  };
  return processes.start(name, ['worker', '--model', modelDir, '--no-detect', '--concurrency', '2'], env);
}

beforeAll(async () => {
  modelDir = (
    await buildSyntheticVitModelDir({
      outDir: path.join(dir, 'vit-s'),
      preset: 'tiny',
      seed: 3,
      config: { hiddenSize: 384, numHiddenLayers: 6, numAttentionHeads: 6, intermediateSize: 1536 },
    })
  ).outDir;
  const config = loadConfig({});
  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
  producer = startProducer(pipeline);
  processes = new CliProcesses();
}, 120_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail')
    console.error(`[worker-stop] process output of the failed test: ${processes.dump(context.task.name)}`);
  await processes.stopAll();
});

afterAll(async () => {
  await producer?.close();
  await pipeline?.close();
  await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('a worker stopped at once while its model runs', () => {
  it('exits 0 once the batch in progress has ended (not an onnxruntime abort), and another worker finishes the video with every frame counted once', async () => {
    const video = generateTestVideo(path.join(dir, 'clip.mp4'), { seconds: 40, width: 224, height: 224 });
    const { videoId } = await submitVideo(pipeline, { path: video, options: { fps: 2 } });
    const a = startWorker('worker-a');
    await processes.until(
      'worker A to start a chunk',
      async () => logLines(a).find((l) => l.msg === 'chunk started'),
      90_000,
    );
    // Its start line says how many threads onnxruntime got and why (the default auto: every usable CPU).
    const started = logLines(a).find((l) => l.msg === 'worker started');
    expect(started).toMatchObject({ intraOpThreads: usableCpus().cpus });
    expect(String(started?.intraOpThreadsWhy)).toMatch(/usable CPU/);
    // Inside a batch by now: two chunks of 32 frames in hand, runs back to back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await processes.kill(a, 'SIGTERM', false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await processes.kill(a, 'SIGTERM'), a.output.slice(-2000)).toBe(0);
    expect(a.output).toMatch(/stopping now/);
    expect(a.output).not.toMatch(/terminate called|Napi::Error/);

    startWorker('worker-b');
    await waitForVideos(pipeline, [videoId], { timeoutMs: 120_000 });
    expect(await expectExactAccounting(pipeline, [{ videoId, frames: 80 }])).toEqual({ analysed: 80, failed: 0 });
  }, 300_000);
});
