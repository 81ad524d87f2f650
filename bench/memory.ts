// A worker's memory: the peak resident set (VmHWM) of one `fer-stream worker` process running the
// ViT-B/16 whole-frame at FER_MAX_BATCH_SIZE=16 on the 60 s talking-face video (120 frames, every
// frame classified), fp32 and int8, onnxruntime's CPU memory arena on (the default) and off.
//
//   FER_SHARED_DIR=../shared npm run bench:memory [-- --json FILE]

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos } from '../src/pipeline/index.ts';
import { startProducer } from '../src/producer/index.ts';
import type { VideoResult } from '../src/results/index.ts';
import { startWorkerProcess } from './pipeline/measure.ts';
import { benchModels, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({ options: { json: { type: 'string' } } });
const shared = process.env.FER_SHARED_DIR;
const models = await benchModels(shared);
const { file } = await talkingFaceVideo(shared);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function peakRss(variant: string, arena: boolean): Promise<{ peakMb: number; framesPerSecond: number }> {
  const prefix = `bench-memory-${process.pid}-${variant}-${arena}`;
  const child = await startWorkerProcess(['--no-detect', '--model', models.vitDir], {
    REDIS_URL,
    FER_REDIS_PREFIX: prefix,
    FER_MODEL_VARIANT: variant,
    FER_MAX_BATCH_SIZE: '16',
    FER_CPU_MEMORY_ARENA: String(arena),
    FER_REUSE_MAX_FRAMES: '0',
  });
  const pipeline = createPipeline({ redisUrl: REDIS_URL, prefix, config: loadConfig({}).pipeline });
  const producer = startProducer(pipeline);
  try {
    const { videoId } = await submitVideo(pipeline, { path: file, options: { fps: 2 } });
    await waitForVideos(pipeline, [videoId], { timeoutMs: 600_000, pollMs: 200 });
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
    return { peakMb: peakKb / 1024, framesPerSecond: result.counts.analysed / (result.timings!.processingMs! / 1000) };
  } finally {
    await producer.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    await pipeline.close();
  }
}

const rows: Array<{ variant: string; arena: boolean; peakMb: number; framesPerSecond: number }> = [];
for (const variant of ['model', 'model_quantized'])
  for (const arena of [true, false]) rows.push({ variant, arena, ...(await peakRss(variant, arena)) });
console.log(
  `\nbench:memory — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; one worker, ViT-B/16 whole-frame, batch 16, 120 frames\n`,
);
console.log('| variant | CPU memory arena | peak RSS (MB) | frames/s |');
console.log('| --- | --- | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.variant === 'model' ? 'fp32' : 'int8'} | ${r.arena ? 'on (default)' : 'off'} | ${r.peakMb.toFixed(0)} | ${r.framesPerSecond.toFixed(2)} |`,
  );
if (values.json) writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
