// Throughput of ViT-B/16 through the dynamic batcher and the worker-thread host, against plain
// `session.run` in a loop on one thread, measured in the same run with the same session options.
//
//   npm run bench:inference [-- --model DIR] [--seconds S] [--rounds R] [--batches 1,2,4,8,16] [--threads N]
//
// Without --model a synthetic ViT-B/16 directory is built once into the temp directory (weights do
// not change the amount of work). Both sides get the same input tensors; the batcher side submits
// single images (one request each) and lets the batcher assemble batches of the given size.

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createInferenceHost } from '../src/inference/backend/index.ts';
import { openDirectSession } from '../src/inference/backend/direct-session.ts';
import { DynamicBatcher } from '../src/inference/batcher.ts';
import { LOGITS, PIXEL_VALUES, readModelDir } from '../src/inference/model-dir.ts';
import { buildSyntheticVitModelDir } from '../src/models/vit/index.ts';
import { pixels } from './pipeline/measure.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    seconds: { type: 'string', default: '6' },
    batches: { type: 'string', default: '1,2,4,8,16' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    variant: { type: 'string', default: 'model' },
    rounds: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const batchSizes = values.batches.split(',').map(Number);
const intraOpThreads = Number(values.threads);

async function modelDir(): Promise<string> {
  if (values.model) return values.model;
  const dir = path.join(os.tmpdir(), 'fer-stream-bench-vit-base');
  if (!existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
    console.error(`building synthetic ViT-B/16 into ${dir} …`);
    await buildSyntheticVitModelDir({ outDir: dir, preset: 'base', seed: 1 });
  }
  return dir;
}

/** Runs `step` (which processes some images) until `seconds` have passed and at least `minSteps` ran; img/s. */
async function measure(step: () => Promise<number>, minSteps: number): Promise<number> {
  await step(); // warm-up: first runs allocate and plan
  let images = 0;
  let steps = 0;
  const start = performance.now();
  while (steps < minSteps || performance.now() - start < seconds * 1000) {
    images += await step();
    steps++;
  }
  return images / ((performance.now() - start) / 1000);
}

const dir = await modelDir();
const model = await readModelDir(dir, { variant: values.variant });
const { height, width } = model.preprocessor.size;
const plane = model.channels * height * width;
const images = Array.from({ length: 16 }, (_, i) => pixels(plane, i + 1));
const options = { intraOpThreads, graphOptimizationLevel: 'all' as const };

const direct = await openDirectSession(model.modelPath, options);
const host = await createInferenceHost({
  modelPath: model.modelPath,
  threads: 1,
  executionProviders: ['cpu'],
  ...options,
});
console.error(
  `model ${model.modelPath}; intra-op threads ${intraOpThreads}; ${seconds}s per measurement; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

function batchTensor(size: number): Float32Array {
  const data = new Float32Array(size * plane);
  for (let i = 0; i < size; i++) data.set(images[i % images.length]!, i * plane);
  return data;
}

async function plain(size: number): Promise<number> {
  const data = batchTensor(size);
  return measure(async () => {
    await direct.run({ [PIXEL_VALUES]: { data, dims: [size, model.channels, height, width] } });
    return size;
  }, 2);
}

async function batched(size: number): Promise<number> {
  const batcher = new DynamicBatcher<Float32Array, number>({
    maxBatchSize: size,
    maxDelayMs: 5,
    maxQueue: 1024,
    // One batch running on the thread and one waiting in the host, so the thread never idles.
    concurrency: host.threads + 1,
    runBatch: async (requests) => {
      // The batch tensor is assembled here, as the classifier's preprocessing writes into it.
      const data = new Float32Array(requests.length * plane);
      requests.forEach((r, i) => data.set(r, i * plane));
      const out = await host.run({ [PIXEL_VALUES]: { data, dims: [requests.length, model.channels, height, width] } });
      const classes = out[LOGITS]!.dims[1]!;
      return requests.map((_, i) => out[LOGITS]!.data[i * classes]!);
    },
  });
  // Closed loop of independent callers, two batches' worth: each submits its next single-image
  // request as soon as its previous one is answered, like workers feeding frames.
  const callers = 2 * size;
  const run = async (ms: number, minImages: number) => {
    const start = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let k = c; performance.now() - start < ms || done < minImages; k++) {
          await batcher.submit(images[k % images.length]!);
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  };
  await run(0, size); // warm-up
  const rate = await run(seconds * 1000, 2 * size);
  await batcher.drain();
  return rate;
}

const rows: Array<{ size: number; plain: number; batched: number; ratios: number[] }> = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const size of batchSizes) {
  // Rounds of A-B-B-A: each side measured twice per round, around the other, so drift in machine
  // load (the CPU is shared) does not favour one side; the median round ratio discounts the rounds
  // a neighbour disturbed.
  const plainRates: number[] = [];
  const batchedRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const plainA = await plain(size);
    const batchedA = await batched(size);
    const batchedB = await batched(size);
    const plainB = await plain(size);
    plainRates.push(plainA, plainB);
    batchedRates.push(batchedA, batchedB);
    ratios.push((batchedA + batchedB) / (plainA + plainB));
    console.error(
      `batch ${size} round ${round + 1}: plain ${plainA.toFixed(2)}/${plainB.toFixed(2)} img/s, batcher+host ${batchedA.toFixed(2)}/${batchedB.toFixed(2)} img/s`,
    );
  }
  rows.push({ size, plain: median(plainRates), batched: median(batchedRates), ratios });
}
await host.close();
await direct.release();

console.log(
  `\n| batch size | plain session.run (img/s, median) | batcher + thread host (img/s, median) | ratio per round | median ratio |`,
);
console.log(`|---:|---:|---:|---|---:|`);
for (const r of rows)
  console.log(
    `| ${r.size} | ${r.plain.toFixed(2)} | ${r.batched.toFixed(2)} | ${r.ratios.map((x) => x.toFixed(3)).join(', ')} | ${median(r.ratios).toFixed(3)} |`,
  );
console.log(
  `\nload average after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; cpus: ${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()}`,
);
