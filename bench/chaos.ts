// bench:chaos — the whole system under faults, against a fault-free run of the same work in the
// same session. 50 generated videos of different lengths go through a producer process and 3
// worker processes (the real CLI, cost-free analyzer slowed per batch so that chunks are in
// flight when a kill comes) on a redis-server of our own (AOF, fsync always). In the chaos run a
// loop kill -9s a random worker every few seconds (and starts a new one), kills the producer
// twice and crashes Redis once (kill -9, restarted 2 s later). Every video must complete with
// the exact accounting (sampled = analysed + failed = its frame count, indexes 0..N-1 once,
// budget and chunks back to 0); the table reports kills, restarts, retries, frames redone and
// total time against the fault-free run.
//
//   npm run bench:chaos -- [--videos 50] [--workers 3] [--batch-delay-ms 150] [--json FILE]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { createPipeline, getVideoStatus, submitVideo, waitForVideos, type Pipeline } from '../src/pipeline/index.ts';
import { checkAccounting } from '../test/helpers/frame-accounting.ts';
import { CliProcesses, logLines, type CliChild } from '../test/helpers/cli-processes.ts';
import { OwnRedis } from '../test/helpers/own-redis.ts';
import { generateTestVideo } from '../test/helpers/videos.ts';

const { values } = parseArgs({
  options: {
    videos: { type: 'string', default: '50' },
    workers: { type: 'string', default: '3' },
    'batch-delay-ms': { type: 'string', default: '150' },
    json: { type: 'string' },
  },
});
const VIDEOS = Number(values.videos);
const WORKERS = Number(values.workers);
const FPS = 4;
const PREFIX = 'fer-chaos';

interface RunReport {
  readonly run: 'fault-free' | 'chaos';
  readonly videos: number;
  readonly frames: number;
  readonly seconds: number;
  readonly workerKills: number;
  readonly producerKills: number;
  readonly redisRestarts: number;
  /** Chunk jobs started more than once (after a kill, a lost lock or an error), and their extra starts. */
  readonly chunksRestarted: number;
  readonly restarts: number;
  /** Frames of those extra starts: work begun again. */
  readonly framesRedone: number;
  /** Frame analyses completed beyond one per frame (work finished twice, counted once in the result). */
  readonly framesAnalysedTwice: number;
  readonly analysed: number;
  readonly failed: number;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-chaos-'));
// 1 s … 10 s at 4 frames/s: 4 … 40 frames per video, 96x72.
const sources = Array.from({ length: 10 }, (_, i) =>
  generateTestVideo(path.join(dir, `v${i + 1}.mp4`), { seconds: i + 1, width: 96, height: 72 }),
);
const videoFiles = Array.from({ length: VIDEOS }, (_, i) => ({
  file: sources[i % sources.length]!,
  frames: ((i % sources.length) + 1) * FPS,
}));

function serviceEnv(redis: OwnRedis): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: redis.url,
    FER_REDIS_PREFIX: PREFIX,
    FER_METRICS_ENABLED: '0',
    CI: 'true',
    LOG_LEVEL: 'debug',
    FER_CHUNK_FRAMES: '4',
    FER_MAX_BATCH_SIZE: '8',
    FER_PRODUCER_CONCURRENCY: '4',
    // Short locks so that a killed process's work comes back within seconds (production default 10 s / 5 s).
    FER_LOCK_DURATION_MS: '4000',
    FER_STALLED_INTERVAL_MS: '2000',
    FER_FRAME_LEASE_SECONDS: '5',
  };
}

/** Every video completed with the exact accounting (test/helpers/frame-accounting.ts); throws saying what is off. */
async function verify(pipeline: Pipeline, ids: readonly string[]): Promise<{ analysed: number; failed: number }> {
  const report = await checkAccounting(
    pipeline,
    ids.map((videoId, i) => ({ videoId, frames: videoFiles[i]!.frames })),
  );
  if (report.problems.length > 0) throw new Error(`accounting is off:\n${report.problems.join('\n')}`);
  return report;
}

/** Chunk starts and finished frame analyses found in the workers' debug logs. */
function workCounts(
  workers: readonly CliChild[],
  framesOf: ReadonlyMap<string, number>,
): { chunksRestarted: number; restarts: number; framesRedone: number; analyses: number } {
  const starts = new Map<string, number>();
  let analyses = 0;
  for (const w of workers) {
    for (const line of logLines(w)) {
      if (line.msg === 'inference batch') analyses += (line.batch as { size: number }).size;
      if (line.msg === 'chunk started') starts.set(String(line.jobId), (starts.get(String(line.jobId)) ?? 0) + 1);
    }
  }
  let chunksRestarted = 0;
  let restarts = 0;
  let framesRedone = 0;
  for (const [jobId, count] of starts) {
    if (count < 2) continue;
    const dash = jobId.lastIndexOf('-');
    const frames = framesOf.get(jobId.slice(0, dash)) ?? 0;
    const sequence = Number(jobId.slice(dash + 1));
    chunksRestarted += 1;
    restarts += count - 1;
    framesRedone += (count - 1) * Math.max(0, Math.min(4, frames - sequence * 4));
  }
  return { chunksRestarted, restarts, framesRedone, analyses };
}

async function run(kind: RunReport['run']): Promise<RunReport> {
  const redis = await OwnRedis.start();
  const processes = new CliProcesses(200);
  const env = serviceEnv(redis);
  const workerArgs = [
    'worker',
    '--analyzer',
    'cost-free',
    '--batch-delay-ms',
    String(values['batch-delay-ms']),
    '--concurrency',
    '2',
  ];
  const workers: CliChild[] = [];
  const live: CliChild[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const w = processes.start(`worker-${i}`, workerArgs, env);
    workers.push(w);
    live.push(w);
  }
  let producer = processes.start('producer', ['producer'], env);
  await processes.until(
    'the services to start',
    async () =>
      [...workers, producer].every((c) => logLines(c).some((l) => /started$/.test(String(l.msg)))) ? true : undefined,
    120_000,
  );

  const pipeline = createPipeline({ redisUrl: redis.url, prefix: PREFIX, config: loadConfig({}).pipeline });
  const started = Date.now();
  const ids: string[] = [];
  for (const v of videoFiles) ids.push((await submitVideo(pipeline, { path: v.file, options: { fps: FPS } })).videoId);
  const total = videoFiles.reduce((n, v) => n + v.frames, 0);

  let workerKills = 0;
  let producerKills = 0;
  let redisRestarts = 0;
  let finished = false;
  const done = waitForVideos(pipeline, ids, { timeoutMs: 900_000, pollMs: 250 }).finally(() => (finished = true));
  if (kind === 'chaos') {
    const progress = async () => {
      const statuses = await Promise.all(ids.map((id) => getVideoStatus(pipeline, id)));
      return statuses.filter((s) => s?.state === 'completed').length / ids.length;
    };
    let next = Date.now() + 3000 + Math.random() * 2000;
    while (!finished) {
      await sleep(200);
      if (finished) break;
      const share = await progress().catch(() => 0);
      // The producer twice (at a fifth and at half the videos done), Redis once (at a third).
      if ((producerKills === 0 && share >= 0.2) || (producerKills === 1 && share >= 0.5)) {
        await processes.kill(producer);
        producerKills += 1;
        await sleep(1000);
        producer = processes.start(`producer-${producerKills}`, ['producer'], env);
      }
      if (redisRestarts === 0 && share >= 0.35) {
        await redis.crash();
        await sleep(2000);
        await redis.up();
        redisRestarts += 1;
      }
      if (Date.now() >= next && share < 0.95) {
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
        await processes.kill(victim);
        workerKills += 1;
        const replacement = processes.start(`worker-r${workerKills}`, workerArgs, env);
        workers.push(replacement);
        live.push(replacement);
        next = Date.now() + 3000 + Math.random() * 2000;
      }
    }
  }
  await done;
  const seconds = (Date.now() - started) / 1000;
  const accounting = await verify(pipeline, ids);
  const work = workCounts(workers, new Map(ids.map((id, i) => [id, videoFiles[i]!.frames])));
  await processes.stopAll();
  await pipeline.close();
  await redis.stop();
  return {
    run: kind,
    videos: ids.length,
    frames: total,
    seconds,
    workerKills,
    producerKills,
    redisRestarts,
    chunksRestarted: work.chunksRestarted,
    restarts: work.restarts,
    framesRedone: work.framesRedone,
    framesAnalysedTwice: work.analyses - total,
    ...accounting,
  };
}

const reports: RunReport[] = [];
for (const kind of ['fault-free', 'chaos'] as const) {
  console.error(`${kind} run: ${VIDEOS} videos, ${WORKERS} workers …`);
  reports.push(await run(kind));
}
rmSync(dir, { recursive: true, force: true });

const [base, chaos] = reports as [RunReport, RunReport];
const rows: Array<[string, string, string]> = [
  ['videos (all completed, exact counts)', String(base.videos), String(chaos.videos)],
  ['frames sampled', String(base.frames), String(chaos.frames)],
  ['frames analysed / failed', `${base.analysed} / ${base.failed}`, `${chaos.analysed} / ${chaos.failed}`],
  ['worker kill -9', String(base.workerKills), String(chaos.workerKills)],
  ['producer kill -9', String(base.producerKills), String(chaos.producerKills)],
  ['Redis crash + restart', String(base.redisRestarts), String(chaos.redisRestarts)],
  [
    'chunk jobs started again (extra starts)',
    `${base.chunksRestarted} (${base.restarts})`,
    `${chaos.chunksRestarted} (${chaos.restarts})`,
  ],
  ['frames redone (begun again)', String(base.framesRedone), String(chaos.framesRedone)],
  ['frames analysed twice (counted once)', String(base.framesAnalysedTwice), String(chaos.framesAnalysedTwice)],
  [
    'total time (s)',
    base.seconds.toFixed(1),
    `${chaos.seconds.toFixed(1)} (${(chaos.seconds / base.seconds).toFixed(2)}×)`,
  ],
];
console.log(`\n| ${VIDEOS} videos, ${WORKERS} workers | fault-free | chaos |\n| --- | ---: | ---: |`);
for (const [what, a, b] of rows) console.log(`| ${what} | ${a} | ${b} |`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
        reports,
      },
      null,
      2,
    ),
  );
