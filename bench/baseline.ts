// Ours against what a JavaScript user would write: transformers.js's `pipeline('image-classification')`
// called once per frame on the same 120 frames (a 60 s talking-face video at 2 frames/s), fp32 and
// its q8 (the same int8 ONNX file ours runs), against `fer-stream analyze --no-detect` with our
// defaults on that video, measured in the same run.
//
//   FER_SHARED_DIR=../shared npm run bench:baseline [-- --rounds 2] [--json FILE]
//
// transformers.js gets the frames already decoded (its time is the calls alone); ours is the
// whole pipeline (decode, Redis, batching, aggregation) from the result's processing time.
// transformers.js runs with onnxruntime's own thread count, as a user who sets nothing gets it;
// where that is not every usable CPU (onnxruntime counted one core of two on a 2-vCPU AMD EPYC,
// see FER_INTRA_OP_THREADS) the rows "threads set" give it the CPUs ours uses, for a like-for-like
// comparison.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { env, pipeline, RawImage } from '@huggingface/transformers';
import { extractFrames, probeVideo } from '../src/producer/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { autoVariant } from '../src/inference/model-variant.ts';
import { resolveIntraOpThreads } from '../src/inference/backend/intra-op-threads.ts';
import { analyze, range } from './pipeline/measure.ts';
import { benchModels, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, json: { type: 'string' }, variant: { type: 'string' } },
});
const rounds = Number(values.rounds);
const shared = process.env.FER_SHARED_DIR;
const models = await benchModels(shared);
const { file: video, source } = await talkingFaceVideo(shared);

const pipelineConfig = loadConfig({}).pipeline;
const probe = await probeVideo(video, {
  maxDurationSeconds: pipelineConfig.maxDurationSeconds,
  maxFileBytes: pipelineConfig.maxFileBytes,
  maxSourcePixels: pipelineConfig.maxSourcePixels,
});
const frames: RawImage[] = [];
for await (const frame of extractFrames(video, probe, { fps: 2, maxSide: pipelineConfig.frameMaxSide }))
  frames.push(new RawImage(new Uint8ClampedArray(frame.data), frame.width, frame.height, 3));

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = `${path.dirname(models.vitDir)}/`;

const usableThreads = resolveIntraOpThreads('auto').threads;

/**
 * frames/s of one transformers.js call per frame (after one warm-up call); `threads`: onnxruntime's intra-op threads,
 * else its own choice.
 */
async function transformersJs(dtype: 'fp32' | 'q8', threads?: number): Promise<number> {
  const classify = await pipeline('image-classification', path.basename(models.vitDir), {
    dtype,
    ...(threads ? { session_options: { intraOpNumThreads: threads } } : {}),
  });
  await classify(frames[0]!);
  const start = performance.now();
  for (const frame of frames) await classify(frame);
  const seconds = (performance.now() - start) / 1000;
  await classify.dispose();
  return frames.length / seconds;
}

// Ours with its defaults, the model variant named where the default is not yet int8.
const ourEnv: Record<string, string> = {
  FER_MODELS_DIR: models.modelsDir,
  ...(values.variant ? { FER_MODEL_VARIANT: values.variant } : {}),
};
interface Round {
  readonly tjsFp32: number;
  readonly tjsQ8: number;
  /** The same with onnxruntime's intra-op threads set to the CPUs ours uses. */
  readonly tjsFp32Threads: number;
  readonly tjsQ8Threads: number;
  readonly ours: number;
  readonly oursWall: number;
  /** Ours with int8 named (what auto picks for a model whose recorded agreement is ≥ 99 %). */
  readonly oursInt8: number;
}
const results: Round[] = [];
for (let round = 1; round <= rounds; round++) {
  const tjsFp32 = await transformersJs('fp32');
  const tjsQ8 = await transformersJs('q8');
  const tjsFp32Threads = await transformersJs('fp32', usableThreads);
  const tjsQ8Threads = await transformersJs('q8', usableThreads);
  const run = await analyze([video], ['--fps', '2', '--no-detect', '--model', models.vitDir], ourEnv);
  const int8 = await analyze([video], ['--fps', '2', '--no-detect', '--model', models.vitDir], {
    ...ourEnv,
    FER_MODEL_VARIANT: 'model_quantized',
  });
  results.push({
    tjsFp32,
    tjsQ8,
    tjsFp32Threads,
    tjsQ8Threads,
    ours: run.framesPerSecond,
    oursWall: run.frames / (run.wallMs / 1000),
    oursInt8: int8.framesPerSecond,
  });
  console.error(
    `round ${round}: transformers.js fp32 ${tjsFp32.toFixed(2)}, q8 ${tjsQ8.toFixed(2)} (threads set: ${tjsFp32Threads.toFixed(2)}, ${tjsQ8Threads.toFixed(2)}); ours ${run.framesPerSecond.toFixed(2)} frames/s (${(run.frames / (run.wallMs / 1000)).toFixed(2)} by wall clock)`,
  );
}

console.log(
  `\nbench:baseline — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; ${frames.length} frames (${source}, 2 frames/s); ours: FER_MODEL_VARIANT=${values.variant ?? 'default'}; ${rounds} round(s)\n`,
);
console.log('| what | frames/s | ours ÷ this |');
console.log('| --- | ---: | ---: |');
console.log(
  `| transformers.js, one call per frame, fp32 | ${range(results.map((r) => r.tjsFp32))} | ${range(results.map((r) => r.ours / r.tjsFp32))} |`,
);
console.log(
  `| transformers.js, one call per frame, q8 | ${range(results.map((r) => r.tjsQ8))} | ${range(results.map((r) => r.ours / r.tjsQ8))} |`,
);
console.log(
  `| transformers.js, fp32, onnxruntime threads set to ${usableThreads} | ${range(results.map((r) => r.tjsFp32Threads))} | ${range(results.map((r) => r.ours / r.tjsFp32Threads))} |`,
);
console.log(
  `| transformers.js, q8, onnxruntime threads set to ${usableThreads} | ${range(results.map((r) => r.tjsQ8Threads))} | ${range(results.map((r) => r.ours / r.tjsQ8Threads))} |`,
);
console.log(`| ours: analyze --no-detect (processing time) | ${range(results.map((r) => r.ours))} | 1 |`);
console.log(`| ours: the same by wall clock (start-up included) | ${range(results.map((r) => r.oursWall))} | — |`);
console.log(
  `| ours with int8 named (FER_MODEL_VARIANT=model_quantized) | ${range(results.map((r) => r.oursInt8))} | ${range(results.map((r) => r.oursInt8 / r.tjsFp32))} × fp32, ${range(results.map((r) => r.oursInt8 / r.tjsQ8))} × q8; threads set: ${range(results.map((r) => r.oursInt8 / r.tjsFp32Threads))} × fp32, ${range(results.map((r) => r.oursInt8 / r.tjsQ8Threads))} × q8 |`,
);
console.log(`\nours used: ${(await autoVariant(models.vitDir)).reason}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
        video: source,
        frames: frames.length,
        results,
      },
      null,
      2,
    ),
  );
