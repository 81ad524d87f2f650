// What observability costs the pipeline: CPU per frame of the metrics observer's hooks (one
// frameProcessed per frame, one inferenceBatch per batch of 8) against a no-op observer, and the
// time to render /metrics, measured in the same run.
//
//   node --import tsx bench/metrics.ts [--frames N] [--rounds R]

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { PipelineObserver } from '../src/core/observer.ts';
import { setBuildInfo } from '../src/metrics/build-info.ts';
import { createMetricsObserver } from '../src/metrics/observer.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';

const { values } = parseArgs({
  options: { frames: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } },
});
const frames = Number(values.frames);
const rounds = Number(values.rounds);
const BATCH = 8;

function drive(observer: PipelineObserver): number {
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    observer.frameProcessed?.({ faces: 1, queueWaitMs: (i % 97) * 3, endToEndMs: 40 + (i % 89) * 7 });
    if (i % BATCH === BATCH - 1)
      observer.inferenceBatch?.({
        stage: 'classify',
        provider: 'cpu',
        batchSize: BATCH,
        maxBatchSize: BATCH,
        durationMs: 180 + (i % 13),
      });
  }
  return performance.now() - start;
}

const noop: PipelineObserver = { frameProcessed() {}, inferenceBatch() {} };
const registry = createMetricsRegistry();
setBuildInfo(registry, { role: 'worker', model: 'bench', provider: 'cpu' });
const metrics = createMetricsObserver(registry);
drive(noop);
drive(metrics); // warm-up

const baseline: number[] = [];
const measured: number[] = [];
// A-B-B-A so drift in machine load hits both sides alike.
for (let r = 0; r < rounds; r++) {
  baseline.push(drive(noop));
  measured.push(drive(metrics));
  measured.push(drive(metrics));
  baseline.push(drive(noop));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const nsPerFrame = (ms: number) => (ms * 1e6) / frames;

const scrapes: number[] = [];
let bytes = 0;
for (let i = 0; i < 50; i++) {
  const start = performance.now();
  const text = await registry.metrics();
  scrapes.push(performance.now() - start);
  bytes = text.length;
}

const base = nsPerFrame(median(baseline));
const withMetrics = nsPerFrame(median(measured));
console.log(`frames per round: ${frames}, batches of ${BATCH}, rounds: ${rounds} (A-B-B-A)`);
console.log(`no-op observer:      ${base.toFixed(0)} ns/frame`);
console.log(
  `metrics observer:    ${withMetrics.toFixed(0)} ns/frame  (×${(withMetrics / base).toFixed(1)} the no-op loop; ${(withMetrics - base).toFixed(0)} ns/frame added)`,
);
console.log(`frames/s one core could report: ${Math.round(1e9 / withMetrics).toLocaleString('en')}`);
console.log(`/metrics render: median ${median(scrapes).toFixed(2)} ms, ${bytes} bytes`);
