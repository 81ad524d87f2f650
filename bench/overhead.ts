// bench:overhead — frames/s through producer → Redis → worker → aggregation with a model that
// costs nothing (CostFreeAnalyzer), i.e. the pipeline's own ceiling. Producer and worker run as
// separate processes (`fer-stream producer`, `fer-stream worker --analyzer cost-free`) against
// REDIS_URL, as deployed. Frames are 224×224 rgb24 decoded from a generated low-resolution
// video (decoding included). Baseline in the same run: the producer's ffmpeg frame stream alone
// (decode + pipe into Node, no Redis). Also compares frames per job (per-frame vs per-chunk).
//
//   npm run bench:overhead -- [--frames N] [--chunks 1,8,32,64] [--per-frame-frames N]
//   BENCH_PROFILE=DIR …: the producer and worker processes also write V8 CPU profiles into DIR.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos, type Pipeline } from '../src/pipeline/index.ts';
import { extractFrames, probeVideo } from '../src/producer/index.ts';
import { cpuSeconds, generateSourceVideo } from './pipeline-source.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '20000' },
    chunks: { type: 'string', default: '1,8,32,64' },
    'per-frame-frames': { type: 'string', default: '3000' },
    side: { type: 'string', default: '224' },
  },
});
const FRAMES = Number(values.frames);
const SIDE = Number(values.side);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const FRAME_BYTES = SIDE * SIDE * 3;
const SOURCE_SIDE = 224;
const RATE = 100;

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-overhead-'));
const video = path.join(dir, 'source.mp4');
// Low-resolution source: 224×224 mpeg4 at 100 frames/s, every frame sampled (decoded, converted to rgb24).
generateSourceVideo(video, { side: SOURCE_SIDE, rate: RATE, frames: FRAMES });

function spawnService(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []),
      path.join(repo, 'bin/fer-stream.js'),
      ...args,
    ],
    {
      cwd: repo,
      env: { ...process.env, REDIS_URL, FER_METRICS_ENABLED: '0', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Decode-only baseline: ffmpeg → pipe → frames in Node, nothing else. */
async function baseline(frames: number): Promise<number> {
  const probe = await probeVideo(video, { maxDurationSeconds: 1e9, maxFileBytes: 1e15, maxSourcePixels: 1e9 });
  const start = performance.now();
  let n = 0;
  for await (const _ of extractFrames(video, probe, {
    fps: RATE,
    maxSide: SIDE,
    maxFrames: frames,
    reuseBuffer: true,
    decodeThreads: loadConfig().pipeline.decodeThreads,
  }))
    n += 1;
  return n / ((performance.now() - start) / 1000);
}

interface RunResult {
  chunkFrames: number;
  frames: number;
  seconds: number;
  framesPerSecond: number;
  jobBytesPerFrame: number;
  resultBytesPerFrame: number;
  peakHeldBytes: number;
  /** CPU seconds per 1,000 frames: producer (with its ffmpeg), worker, redis-server. */
  cpu: { producer: number; worker: number; redis: number };
}

async function runPipeline(chunkFrames: number, frames: number): Promise<RunResult> {
  const prefix = `fer-bench-${process.pid}-${chunkFrames}`;
  const env = {
    FER_REDIS_PREFIX: prefix,
    FER_CHUNK_FRAMES: String(chunkFrames),
    FER_REDIS_FRAME_BUDGET_BYTES: String(64 * 2 ** 20),
    FER_WORKER_CONCURRENCY: String(Math.max(4, Math.ceil(128 / chunkFrames))),
    FER_MAX_BATCH_SIZE: '64',
    FER_MAX_DELAY_MS: '1',
  };
  const config = loadConfig({ ...process.env, ...env });
  const pipeline: Pipeline = createPipeline({ redisUrl: REDIS_URL, prefix, config: config.pipeline });
  const producer = spawnService(['producer'], env);
  const worker = spawnService(['worker', '--analyzer', 'cost-free'], env);
  const probe = new Redis(REDIS_URL);
  try {
    // Start the clock only once both services consume their queues (start-up is not pipeline cost).
    while (
      (await pipeline.queues.videos.getWorkers()).length === 0 ||
      (await pipeline.queues.frames.getWorkers()).length === 0
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    let jobBytes = 0;
    let resultBytesPerFrame = 0;
    let peakHeldBytes = 0;
    let sampling = true;
    const redisPid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
    const cpuBefore = {
      producer: cpuSeconds(producer.pid!),
      worker: cpuSeconds(worker.pid!),
      redis: cpuSeconds(redisPid),
    };
    const start = performance.now();
    const { videoId } = await submitVideo(pipeline, {
      path: video,
      options: { fps: RATE, maxFrames: frames, maxSide: SIDE },
    });
    const sampler = (async () => {
      while (sampling) {
        peakHeldBytes = Math.max(
          peakHeldBytes,
          Number((await probe.get(pipeline.keys.chunkShards[0]!.heldBytes)) ?? 0),
        );
        const [, keys] = await probe.scan(
          '0',
          'MATCH',
          `${pipeline.keys.bullPrefix}:frames:${videoId}-*`,
          'COUNT',
          1000,
        );
        // The job's own hash (not its :lock / :logs companions).
        const jobKey = keys.find((k) => /-\d+$/.test(k));
        if (jobKey) jobBytes = Math.max(jobBytes, Number((await probe.call('MEMORY', 'USAGE', jobKey)) ?? 0));
        const framesKey = pipeline.keys.videoFrames(videoId);
        const stored = await probe.hlen(framesKey);
        if (stored > 100)
          resultBytesPerFrame = Number((await probe.call('MEMORY', 'USAGE', framesKey, 'SAMPLES', '0')) ?? 0) / stored;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const statuses = await waitForVideos(pipeline, [videoId], { pollMs: 20 });
    const seconds = (performance.now() - start) / 1000;
    const per1000 = (before: number, after: number) => ((after - before) * 1000) / frames;
    const cpu = {
      producer: per1000(cpuBefore.producer, cpuSeconds(producer.pid!)),
      worker: per1000(cpuBefore.worker, cpuSeconds(worker.pid!)),
      redis: per1000(cpuBefore.redis, cpuSeconds(redisPid)),
    };
    sampling = false;
    await sampler;
    const status = statuses.get(videoId)!;
    if (status.state !== 'completed') throw new Error(`bench video failed: ${status.error?.message}`);
    const result = await getVideoResult<{ counts: { sampled: number; failed: number } }>(pipeline, videoId);
    if (result?.counts.sampled !== frames || result.counts.failed !== 0)
      throw new Error(`expected ${frames} analysed frames, got ${JSON.stringify(result?.counts)}`);
    return {
      chunkFrames,
      frames,
      seconds,
      framesPerSecond: frames / seconds,
      jobBytesPerFrame: jobBytes / chunkFrames,
      resultBytesPerFrame,
      peakHeldBytes,
      cpu,
    };
  } finally {
    await Promise.all([stop(producer), stop(worker)]);
    probe.disconnect();
    const cleaner = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await cleaner.unlink(...keys);
    } while (cursor !== '0');
    cleaner.disconnect();
    await pipeline.close();
  }
}

const chunkSizes = values.chunks.split(',').map(Number);
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `frames: ${SIDE}×${SIDE} rgb24 (${FRAME_BYTES} B) from a ${SOURCE_SIDE}×${SOURCE_SIDE} mpeg4 testsrc video, sampled at ${RATE} fps`,
);
const base = await baseline(FRAMES);
console.log(`baseline (ffmpeg decode + scale → pipe → Node frames, no Redis): ${base.toFixed(0)} frames/s`);
const rows: RunResult[] = [];
for (const chunkFrames of chunkSizes) {
  const frames = chunkFrames === 1 ? Number(values['per-frame-frames']) : FRAMES;
  const r = await runPipeline(chunkFrames, frames);
  rows.push(r);
  console.log(
    `chunk ${chunkFrames}: ${r.frames} frames in ${r.seconds.toFixed(2)} s = ${r.framesPerSecond.toFixed(0)} frames/s; CPU s per 1000 frames: producer+ffmpeg ${r.cpu.producer.toFixed(2)}, worker ${r.cpu.worker.toFixed(2)}, redis ${r.cpu.redis.toFixed(2)}`,
  );
}
// Wall-clock figures depend on what else the shared machine runs; CPU time per frame does much
// less. "2-core capacity" = frames/s if two cores did nothing but this pipeline.
console.log(
  '\n| frames per job (chunk) | frames | frames/s end to end (wall) | × baseline | CPU ms/frame: producer+ffmpeg / worker / redis | 2-core capacity, frames/s | Redis bytes/frame: frame data | + job | + stored result | peak frame bytes held |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.chunkFrames} | ${r.frames} | ${r.framesPerSecond.toFixed(0)} | ${(r.framesPerSecond / base).toFixed(2)} | ${r.cpu.producer.toFixed(3)} / ${r.cpu.worker.toFixed(3)} / ${r.cpu.redis.toFixed(3)} | ${(2000 / (r.cpu.producer + r.cpu.worker + r.cpu.redis)).toFixed(0)} | ${FRAME_BYTES} | ${r.jobBytesPerFrame.toFixed(0)} | ${r.resultBytesPerFrame.toFixed(0)} | ${(r.peakHeldBytes / 2 ** 20).toFixed(1)} MiB |`,
  );
}
rmSync(dir, { recursive: true, force: true });
