// Where an analyze's CPU goes, against the model's own: one `fer-stream analyze --no-detect` of the
// 120-frame talking-face video (every frame classified), its CPU per thread over the processing
// window (the result's startedAt → completedAt, sampled from /proc every 20 ms), its children
// (ffprobe, ffmpeg) and the Redis server, next to the CPU the ceiling loop needs for the same
// number of images, measured in the same run.
//
//   FER_SHARED_DIR=../shared npm run bench:cpu [-- --variant model_quantized|model] [--rounds 2] [--json FILE]
//
// Threads are not named by Node; the busiest ones are onnxruntime's (the session's thread and its
// intra-op pool threads: as many as FER_INTRA_OP_THREADS=auto gives), the main thread is the process id.
// The bound printed last: the ratio to the ceiling if nothing but the model and its children
// used the CPU.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cpuBetween, type CpuSample } from './pipeline/cpu-sampler.ts';
import { resolveIntraOpThreads } from '../src/inference/backend/intra-op-threads.ts';
import { ceilingWithCpu, range, runAnalyze } from './pipeline/measure.ts';
import { benchModels, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: {
    variant: { type: 'string', default: 'model_quantized' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const shared = process.env.FER_SHARED_DIR;
const models = await benchModels(shared);
const { file: video } = await talkingFaceVideo(shared);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

async function redisCpuMs(): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

interface Round {
  readonly frames: number;
  readonly processingMs: number;
  readonly ceilingImagesPerSecond: number;
  /** CPU ms in the processing window. */
  readonly model: number;
  readonly main: number;
  readonly otherThreads: number;
  readonly children: number;
  /** The whole command's run. */
  readonly redis: number;
  /** The ceiling's CPU for the same number of images. */
  readonly ceilingCpu: number;
}

const rounds: Round[] = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  const top = await ceilingWithCpu(path.join(models.vitDir, 'onnx', `${values.variant}.onnx`), {
    batch: 8,
    seconds: 8,
    intraOpThreads: 'auto',
  });
  const samples: CpuSample[] = [];
  const redisBefore = await redisCpuMs();
  const { results } = await runAnalyze(
    [video],
    ['--no-detect', '--model', models.vitDir],
    { FER_MODELS_DIR: models.modelsDir, FER_MODEL_VARIANT: values.variant!, FER_REUSE_MAX_FRAMES: '0' },
    { cpuSamples: samples },
  );
  const redisMs = (await redisCpuMs()) - redisBefore;
  const result = results[0]!;
  const window = cpuBetween(samples, Date.parse(result.timings.startedAt), Date.parse(result.timings.completedAt));
  const pid = samples[0]!.pid;
  const byCpu = [...window.threads.entries()].filter(([tid]) => tid !== pid).sort((a, b) => b[1] - a[1]);
  const modelThreads = resolveIntraOpThreads('auto').threads;
  const model = byCpu.slice(0, modelThreads).reduce((n, [, ms]) => n + ms, 0);
  const otherThreads = byCpu.slice(modelThreads).reduce((n, [, ms]) => n + ms, 0);
  const frames = result.counts.analysed;
  rounds.push({
    frames,
    processingMs: result.timings.processingMs,
    ceilingImagesPerSecond: top.imagesPerSecond,
    model,
    main: window.threads.get(pid) ?? 0,
    otherThreads,
    children: window.children,
    redis: redisMs,
    ceilingCpu: top.cpuMsPerImage * frames,
  });
  const r = rounds.at(-1)!;
  console.error(
    `round ${round}: ${frames} frames in ${r.processingMs} ms (${(((frames / r.processingMs) * 1000) / r.ceilingImagesPerSecond).toFixed(2)} × ceiling); model threads ${r.model} ms, ceiling ${r.ceilingCpu.toFixed(0)} ms`,
  );
}
redis.disconnect();

const s = (pick: (r: Round) => number) => range(rounds.map((r) => pick(r) / 1000));
console.log(
  `\nbench:cpu — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; analyze --no-detect, ${values.variant}, ${rounds[0]?.frames} frames, every frame classified; ${rounds.length} round(s)\n`,
);
console.log('| part | CPU-s |');
console.log('| --- | ---: |');
console.log(`| the ceiling loop for the same images (the model alone) | ${s((r) => r.ceilingCpu)} |`);
console.log(`| analyze, in its processing window: the busiest threads (onnxruntime's) | ${s((r) => r.model)} |`);
console.log(`| … the main thread (producer, worker, aggregation, Redis clients) | ${s((r) => r.main)} |`);
console.log(`| … every other thread (preprocessing, V8's helpers, libuv) | ${s((r) => r.otherThreads)} |`);
console.log(`| … its children (ffprobe, ffmpeg) | ${s((r) => r.children)} |`);
console.log(`| the Redis server, the whole command | ${s((r) => r.redis)} |`);
console.log(
  `| outside the model (main + other threads + children + Redis) | ${s((r) => r.main + r.otherThreads + r.children + r.redis)} |`,
);
console.log(
  `| idle (or other processes): ${os.cpus().length} cores × processing time − all of the above | ${s((r) => os.cpus().length * r.processingMs - r.model - r.main - r.otherThreads - r.children - r.redis)} |`,
);
console.log(
  `\nprocessing ${range(rounds.map((r) => r.processingMs / 1000))} s for the ceiling's ${range(rounds.map((r) => r.frames / r.ceilingImagesPerSecond))} s: × ceiling ${range(rounds.map((r) => r.frames / r.ceilingImagesPerSecond / (r.processingMs / 1000)))}`,
);
console.log(
  `bound with nothing but the model and its children (ffprobe, ffmpeg decoding the video): × ceiling ≤ ${range(
    rounds.map((r) => r.ceilingCpu / (r.ceilingCpu + r.children)),
    3,
  )}`,
);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
        variant: values.variant,
        rounds,
      },
      null,
      2,
    ),
  );
