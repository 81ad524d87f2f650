// Horizontal scaling on one machine: the same videos through one worker process against two,
// each single-threaded (FER_INTRA_OP_THREADS=1: onnxruntime's threads set per process, as a
// deployment sets them per worker), the ViT-B/16 whole-frame (int8 unless --variant model);
// measured in the same run.
//
//   FER_SHARED_DIR=../shared npm run bench:scaling [-- --videos 8] [--rounds 2] [--every-frame] [--variant
//   model|model_quantized] [--concurrency 4,1] [--json FILE]
//
// --every-frame: every frame classified (FER_REUSE_MAX_FRAMES=0), so the workers' share of the work
// does not depend on how much the default reuse saves. --concurrency: the workers'
// FER_WORKER_CONCURRENCY values to compare, each measured in every round (default: the configured one).
//
// The model alone first (two processes' session.run loops against one): the bound the workers
// cannot pass, since two models on two cores already share caches and memory bandwidth.
//
// frames/s = every video's frames / (last completion − first start). The producer runs in this
// process; workers are `fer-stream worker` processes (compiled start-up), started and warm before
// the videos are submitted, stopped after.

import { execFile, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos } from '../src/pipeline/index.ts';
import { startProducer } from '../src/producer/index.ts';
import type { VideoResult } from '../src/results/index.ts';
import { range, startWorkerProcess } from './pipeline/measure.ts';
import { benchModels, linkInto, BENCH_DIR, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: {
    videos: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'string' },
    'every-frame': { type: 'boolean', default: false },
    variant: { type: 'string', default: 'model_quantized' },
    concurrency: { type: 'string' },
  },
});
const concurrencies: Array<string | undefined> = values.concurrency ? values.concurrency.split(',') : [undefined];
const variant = values.variant!;
const shared = process.env.FER_SHARED_DIR;
const models = await benchModels(shared);
const { file } = await talkingFaceVideo(shared);
const videos = Array.from({ length: Number(values.videos) }, (_, i) =>
  linkInto(path.join(BENCH_DIR, 'scaling'), file, `talking-${i}.mp4`),
);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function startWorker(prefix: string, concurrency: string | undefined): Promise<ChildProcess> {
  return startWorkerProcess(['--no-detect', '--model', models.vitDir], {
    REDIS_URL,
    FER_REDIS_PREFIX: prefix,
    FER_MODELS_DIR: models.modelsDir,
    FER_INTRA_OP_THREADS: '1',
    FER_MODEL_VARIANT: variant,
    ...(values['every-frame'] ? { FER_REUSE_MAX_FRAMES: '0' } : {}),
    ...(concurrency ? { FER_WORKER_CONCURRENCY: concurrency } : {}),
  });
}

async function run(workers: number, round: number, concurrency: string | undefined): Promise<number> {
  const prefix = `bench-scaling-${process.pid}-${workers}-${round}-${concurrency ?? 'default'}`;
  const children = await Promise.all(Array.from({ length: workers }, () => startWorker(prefix, concurrency)));
  const pipeline = createPipeline({ redisUrl: REDIS_URL, prefix, config: loadConfig({}).pipeline });
  const producer = startProducer(pipeline);
  try {
    const ids = await Promise.all(
      videos.map((v) => submitVideo(pipeline, { path: v, options: { fps: 2, maxFrames: 60 } }).then((r) => r.videoId)),
    );
    await waitForVideos(pipeline, ids, { timeoutMs: 1_800_000, pollMs: 200 });
    const results = await Promise.all(ids.map((id) => getVideoResult<VideoResult>(pipeline, id)));
    const frames = results.reduce((n, r) => n + r!.counts.analysed, 0);
    const first = Math.min(...results.map((r) => Date.parse(r!.timings!.startedAt!)));
    const last = Math.max(...results.map((r) => Date.parse(r!.timings!.completedAt!)));
    return frames / ((last - first) / 1000);
  } finally {
    await producer.close();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.on('exit', resolve)))),
    );
    await pipeline.close();
  }
}

/**
 * The model alone, as the bound for the workers: `session.run` loops (batch 8, one intra-op thread) in `processes`
 * processes at once, img/s summed.
 */
async function modelOnly(processes: number): Promise<number> {
  const script = path.join(import.meta.dirname, 'pipeline', 'ceiling-process.ts');
  const modelFile = path.join(models.vitDir, 'onnx', `${variant}.onnx`);
  const outs = await Promise.all(
    Array.from({ length: processes }, () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', script, modelFile, '8', '1']),
    ),
  );
  return outs.reduce((sum, { stdout }) => sum + Number(stdout.trim()), 0);
}

const rows: Array<{
  round: number;
  concurrency: string;
  one: number;
  two: number;
  modelOne: number;
  modelTwo: number;
}> = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  const modelOne = await modelOnly(1);
  const modelTwo = await modelOnly(2);
  for (const concurrency of concurrencies) {
    const one = await run(1, round, concurrency);
    const two = await run(2, round, concurrency);
    rows.push({ round, concurrency: concurrency ?? 'configured', one, two, modelOne, modelTwo });
    console.error(
      `round ${round}: model alone ${modelOne.toFixed(2)} → ${modelTwo.toFixed(2)} img/s (${(modelTwo / modelOne).toFixed(2)}×); concurrency ${concurrency ?? 'configured'}: 1 worker ${one.toFixed(2)} frames/s, 2 workers ${two.toFixed(2)} (${(two / one).toFixed(2)}×)`,
    );
  }
}
console.log(
  `\nbench:scaling — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; ${videos.length} videos × 60 frames, ${variant === 'model' ? 'fp32' : variant === 'model_quantized' ? 'int8' : variant} ViT-B/16 whole-frame, FER_INTRA_OP_THREADS=1 per worker${values['every-frame'] ? ', every frame classified' : ', reuse on (the default)'}\n`,
);
console.log('| what | one process (frames/s) | two processes (frames/s) | × one |');
console.log('| --- | ---: | ---: | ---: |');
console.log(
  `| the model alone: session.run loop, batch 8, 1 thread per process | ${range(rows.map((r) => r.modelOne))} | ${range(rows.map((r) => r.modelTwo))} | ${range(rows.map((r) => r.modelTwo / r.modelOne))} |`,
);
for (const concurrency of new Set(rows.map((r) => r.concurrency))) {
  const mine = rows.filter((r) => r.concurrency === concurrency);
  const label =
    concurrencies.length > 1 || concurrency !== 'configured' ? `, FER_WORKER_CONCURRENCY=${concurrency}` : '';
  console.log(
    `| fer-stream worker processes${label} | ${range(mine.map((r) => r.one))} | ${range(mine.map((r) => r.two))} | ${range(mine.map((r) => r.two / r.one))} |`,
  );
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`, rows },
      null,
      2,
    ),
  );
