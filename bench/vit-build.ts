// ViT builder benchmark: time to write the synthetic ViT-B/16 model directory (with its int8
// variant), then float32 vs dynamic int8 throughput and agreement in the same run.
//   node --import tsx bench/vit-build.ts [--threads 2] [--batch 8] [--runs 3]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildSyntheticVitModelDir } from '../src/models/vit/index.ts';
import { fillNormal } from '../src/models/vit/synthetic.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
  },
});
const threads = Number(values.threads);
const batch = Number(values.batch);
const runs = Number(values.runs);

const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-vit-'));
try {
  let t = performance.now();
  const fp32 = await buildSyntheticVitModelDir({ preset: 'base', outDir: path.join(dir, 'fp32') });
  const buildSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const both = await buildSyntheticVitModelDir({
    preset: 'base',
    outDir: path.join(dir, 'both'),
    quantize: 'int8-per-channel',
  });
  const bothSeconds = (performance.now() - t) / 1000;
  console.log(
    `build ViT-B/16 (${fp32.parameterCount.toLocaleString('en-US')} parameters, ${(fp32.modelBytes / 1e6).toFixed(1)} MB): ${buildSeconds.toFixed(1)} s`,
  );
  console.log(
    `build with int8 variant (${(both.quantized!.modelBytes / 1e6).toFixed(1)} MB more): ${bothSeconds.toFixed(1)} s`,
  );

  const pixels = new Float32Array(batch * 3 * 224 * 224);
  fillNormal(pixels, 0.6, 1);
  const results: Record<string, { perSecond: number; logits: Float32Array }> = {};
  for (const [name, file] of [
    ['float32', both.modelFile],
    ['int8', both.quantized!.modelFile],
  ] as const) {
    const session = await ort.InferenceSession.create(file, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
    });
    const feeds = { pixel_values: new ort.Tensor('float32', pixels, [batch, 3, 224, 224]) };
    const { logits } = await session.run(feeds); // warm-up
    const started = performance.now();
    for (let r = 0; r < runs; r++) await session.run(feeds);
    results[name] = {
      perSecond: (runs * batch) / ((performance.now() - started) / 1000),
      logits: logits!.data as Float32Array,
    };
    await session.release();
  }
  const f = results.float32!;
  const q = results.int8!;
  let worst = 0;
  let agree = 0;
  for (let i = 0; i < f.logits.length; i++) worst = Math.max(worst, Math.abs(f.logits[i]! - q.logits[i]!));
  const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
  for (let n = 0; n < batch; n++)
    if (argmax(f.logits.subarray(n * 7, n * 7 + 7)) === argmax(q.logits.subarray(n * 7, n * 7 + 7))) agree++;
  console.log(`threads ${threads}, batch ${batch}, ${runs} runs`);
  console.log(`float32: ${f.perSecond.toFixed(2)} img/s (baseline 1.00)`);
  console.log(`int8:    ${q.perSecond.toFixed(2)} img/s (${(q.perSecond / f.perSecond).toFixed(2)}×)`);
  console.log(
    `int8 vs float32 logits: max |Δ| ${worst.toFixed(4)} (float32 logit range ${(Math.max(...f.logits) - Math.min(...f.logits)).toFixed(3)}), top-1 agreement ${agree}/${batch}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
