// The two sides bench:pipeline compares: the model alone (session.run in a loop on pre-made
// tensors: the ceiling) and the whole CLI (`fer-stream analyze`, a process of its own, compiled
// start-up included), read from the results it writes.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Box } from '../../src/core/types.ts';
import { openDirectSession } from '../../src/inference/backend/direct-session.ts';
import type { IntraOpThreadsSetting } from '../../src/inference/backend/intra-op-threads.ts';
import { PIXEL_VALUES } from '../../src/inference/model-dir.ts';
import { sampleCpu, type CpuSample } from './cpu-sampler.ts';
import { BENCH_DIR, REPO } from './setup.ts';

/** Deterministic pseudo-random pixels in [-1, 1). */
export function pixels(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * img/s of `session.run` at batch `batch` on pre-made tensors, one warm-up run, for at least `seconds`.
 * `intraOpThreads: 'auto'` is what the pipeline's sessions get by default (every usable CPU).
 */
export async function ceiling(
  modelFile: string,
  options: { batch: number; seconds: number; intraOpThreads: IntraOpThreadsSetting; side?: number },
): Promise<number> {
  return (await ceilingWithCpu(modelFile, options)).imagesPerSecond;
}

/** The ceiling and the CPU it took per image (the whole process's user + system time over the loop). */
export async function ceilingWithCpu(
  modelFile: string,
  options: { batch: number; seconds: number; intraOpThreads: IntraOpThreadsSetting; side?: number },
): Promise<{ imagesPerSecond: number; cpuMsPerImage: number }> {
  const session = await openDirectSession(modelFile, {
    intraOpThreads: options.intraOpThreads,
    graphOptimizationLevel: 'all',
  });
  const side = options.side ?? 224;
  const inputs = {
    [PIXEL_VALUES]: { data: pixels(options.batch * 3 * side * side, 7), dims: [options.batch, 3, side, side] },
  };
  try {
    await session.run(inputs);
    let images = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    while (performance.now() - start < options.seconds * 1000 || images < options.batch * 3) {
      await session.run(inputs);
      images += options.batch;
    }
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return { imagesPerSecond: images / seconds, cpuMsPerImage: (used.user + used.system) / 1000 / images };
  } finally {
    await session.release();
  }
}

export interface AnalyzeRun {
  /** Frames analysed over all videos. */
  readonly frames: number;
  /** frames / (last completion − first start), from the results' own timings. */
  readonly framesPerSecond: number;
  /** Sum of the videos' processing time (one video: its processingMs). */
  readonly processingMs: number;
  /** The command from spawn to exit. */
  readonly wallMs: number;
  readonly faces: number;
  /** Largest resident set of the analyze process (sampled every 50 ms from /proc), MB. */
  readonly peakRssMb: number;
}

/** What the benches read of a result file. */
export interface ResultFile {
  readonly counts: { analysed: number; failed: number };
  readonly timings: { readonly startedAt: string; readonly completedAt: string; readonly processingMs: number };
  readonly frames: ReadonlyArray<{
    index: number;
    faces: ReadonlyArray<{ box: Box; label: string; reused?: boolean }>;
  }>;
}

/** A figure over rounds: "a" when all agree, else "min–max". */
export function range(xs: readonly number[], digits = 2): string {
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  return lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
}

/** Starts `fer-stream worker` with `args` and `env` and resolves once it says it has started. */
export function startWorkerProcess(args: readonly string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fer-stream.js'), 'worker', ...args], {
    env: {
      ...process.env,
      FER_METRICS_ENABLED: 'false',
      FER_EXECUTION_PROVIDERS: 'cpu',
      LOG_LEVEL: 'info',
      CI: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('worker started')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${output.slice(-1000)}`)));
  });
}

/** Runs `fer-stream analyze` on `videos` with `args` and `env`: its result files, wall clock and peak RSS. */
export async function runAnalyze(
  videos: readonly string[],
  args: readonly string[],
  env: Record<string, string>,
  options: { cpuSamples?: CpuSample[] } = {},
): Promise<{ results: ResultFile[]; wallMs: number; peakRssMb: number }> {
  const out = path.join(BENCH_DIR, `out-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const start = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'bin', 'fer-stream.js'), 'analyze', ...videos, '--out', out, ...args],
    {
      env: { ...process.env, FER_REDIS_PREFIX: `bench-pipeline-${process.pid}`, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let peakRssKb = 0;
  const sampler = setInterval(
    () => {
      const status = (() => {
        try {
          return readFileSync(`/proc/${child.pid}/status`, 'utf8');
        } catch {
          return '';
        }
      })();
      peakRssKb = Math.max(peakRssKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      if (options.cpuSamples && child.pid !== undefined) {
        const sample = sampleCpu(child.pid);
        if (sample) options.cpuSamples.push(sample);
      }
    },
    options.cpuSamples ? 20 : 50,
  );
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`analyze ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  const results = videos.map(
    (video) =>
      JSON.parse(
        readFileSync(path.join(out, `${path.basename(video, path.extname(video))}.json`), 'utf8'),
      ) as ResultFile,
  );
  rmSync(out, { recursive: true, force: true });
  return { results, wallMs, peakRssMb: peakRssKb / 1024 };
}

/** `fer-stream analyze` of `videos`, summed up: frames/s of processing time, wall clock, faces, peak RSS. */
export async function analyze(
  videos: readonly string[],
  args: readonly string[],
  env: Record<string, string>,
): Promise<AnalyzeRun> {
  const { results, wallMs, peakRssMb } = await runAnalyze(videos, args, env);
  const frames = results.reduce((n, r) => n + r.counts.analysed, 0);
  const first = Math.min(...results.map((r) => Date.parse(r.timings.startedAt)));
  const last = Math.max(...results.map((r) => Date.parse(r.timings.completedAt)));
  return {
    frames,
    framesPerSecond: frames / ((last - first) / 1000),
    processingMs: results.reduce((n, r) => n + r.timings.processingMs, 0),
    wallMs,
    faces: results.reduce((n, r) => n + r.frames.reduce((m, f) => m + f.faces.length, 0), 0),
    peakRssMb,
  };
}
