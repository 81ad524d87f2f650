// bench:segments — segment-parallel production of one long 1080p video: how much sooner every
// frame is enqueued when two producers, each pinned to its own core (taskset, one decoder thread),
// share its segments, against one producer decoding it from start to end as before the split
// existed (FER_SEGMENT_SECONDS=0) and one producer taking the segments one after another. The
// video: the GRID talking faces of ../shared upscaled to 1080p, x264 veryfast (B-frames), looped
// by stream copy to --minutes; sampled at 2 frames/s to 640 px. Each run: its own redis-server (no
// persistence), a frame budget that holds the whole video, production time = submission → every
// frame enqueued (state `processing`); only then a cost-free worker drains the chunks (on a 2-core
// machine a worker running meanwhile would take a third of a core from the pinned producers), and
// the exact accounting (every index once, the budget back to 0).
//
//   FER_SHARED_DIR=../shared npm run bench:segments -- [--minutes 10] [--json FILE]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { createPipeline, getVideoStatus, segmentPlanOf, submitVideo, waitForVideos } from '../src/pipeline/index.ts';
import { mediaBinaries, probeVideo } from '../src/producer/index.ts';
import { checkAccounting } from '../test/helpers/frame-accounting.ts';
import { CliProcesses, logLines } from '../test/helpers/cli-processes.ts';
import { OwnRedis, redisCpuSeconds } from '../test/helpers/own-redis.ts';
import { encodeLikeARecording, talkingFaceVideo, X264_LIKE_A_PHONE } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    video: { type: 'string' },
    'segment-seconds': { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const span = Number(values['segment-seconds']);
const cores = os.cpus().length;
if (cores < 2) throw new Error('bench:segments pins two producers to two cores: this machine has one');
const ffmpeg = mediaBinaries().ffmpeg;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-segments-'));
/** The video (--video FILE: a whole number of minutes long, else made here) and its length in minutes. */
async function benchVideo(): Promise<{ video: string; minutes: number }> {
  if (values.video)
    return {
      video: values.video,
      minutes: Math.round(((await probeVideo(values.video, loadConfig({}).pipeline)).durationSeconds ?? 0) / 60),
    };
  const minutes = Number(values.minutes);
  const { file: talking } = await talkingFaceVideo(process.env.FER_SHARED_DIR);
  // 60 s at 1080p once (the costly part), then looped by stream copy: the same keyframe pattern every minute.
  const minute = path.join(tmp, '1080p-60s.mp4');
  encodeLikeARecording(ffmpeg, talking, minute, { seconds: 60, scale: '1920:1080', codec: X264_LIKE_A_PHONE });
  const video = path.join(tmp, `1080p-${minutes}min.mp4`);
  execFileSync(ffmpeg, ['-v', 'error', '-y', '-stream_loop', String(minutes - 1), '-i', minute, '-c', 'copy', video]);
  console.log(`video: ${minutes} min of 1080p H.264 (${talking} upscaled, looped)`);
  return { video, minutes };
}
const { video, minutes } = await benchVideo();

interface Run {
  readonly name: string;
  readonly producers: number;
  readonly segmentSeconds: number;
}
const runs: Run[] = [
  { name: 'one producer, whole video (no split)', producers: 1, segmentSeconds: 0 },
  { name: `one producer, ${span} s segments in turn`, producers: 1, segmentSeconds: span },
  { name: `two producers, ${span} s segments side by side`, producers: 2, segmentSeconds: span },
];

// Rounds, each configuration once per round in turn (the order rotating): this VM's CPU speed drifts
// by ±15 % between minutes, so each ratio is taken within a round and the median reported.
const rounds = Number(values.rounds);
const results: Array<Record<string, unknown>> = [];
const CLOCK_TICKS = 100;
/**
 * CPU seconds of a live process (utime + stime) and of the children it has waited for (cutime + cstime):
 * /proc/PID/stat.
 */
function processCpuSeconds(pid: number): { self: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
  // After "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  const at = (n: number) => Number(fields[n - 3]);
  return { self: (at(14) + at(15)) / CLOCK_TICKS, children: (at(16) + at(17)) / CLOCK_TICKS };
}
const schedule = Array.from({ length: rounds }, (_, round) =>
  runs.map((_, i) => ({ round, run: runs[(i + round) % runs.length]! })),
).flat();
for (const { round, run } of schedule) {
  const redis = await OwnRedis.start({ persistence: false });
  const prefix = 'bench-segments';
  const pipeline = createPipeline({ redisUrl: redis.url, prefix, config: loadConfig({}).pipeline });
  const processes = new CliProcesses(100);
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    FER_REDIS_PREFIX: prefix,
    FER_METRICS_ENABLED: '0',
    LOG_LEVEL: 'info',
    FER_LOG_FORMAT: 'json',
    FER_DECODE_THREADS: '1',
    FER_DECODE_HWACCEL: 'none',
    FER_PRODUCER_CONCURRENCY: '1',
    FER_SEGMENT_SECONDS: String(run.segmentSeconds),
    // The whole video's frames fit: production never waits for a worker.
    FER_REDIS_FRAME_BUDGET_BYTES: String(4 * 1024 ** 3),
  };
  try {
    const producers = Array.from({ length: run.producers }, (_, i) =>
      processes.start(`producer-${i + 1}`, ['producer'], env),
    );
    for (const child of producers) {
      await processes.until(
        `${child.name} to start`,
        async () => (logLines(child).some((l) => /started$/.test(l.msg ?? '')) ? true : undefined),
        60_000,
      );
    }
    // Each producer (all its threads, and the ffmpeg it starts later) on a core of its own.
    producers.forEach((child, i) =>
      execFileSync('taskset', ['-a', '-pc', String(i % cores), String(child.process.pid)], { stdio: 'ignore' }),
    );
    const redisCpuBefore = await redisCpuSeconds(pipeline.redis);
    const started = performance.now();
    const { videoId } = await submitVideo(pipeline, { path: video, options: { fps: 2 } });
    let producedSeconds = 0;
    for (;;) {
      const status = await getVideoStatus(pipeline, videoId);
      if (status?.state === 'processing' || status?.state === 'completed' || status?.state === 'failed') {
        producedSeconds = (performance.now() - started) / 1000;
        break;
      }
      await sleep(100);
    }
    // CPU of production: the producers' Node processes, the ffmpeg runs they waited for, Redis.
    const cpu = { producersNode: 0, ffmpeg: 0, redis: (await redisCpuSeconds(pipeline.redis)) - redisCpuBefore };
    for (const child of producers) {
      const own = processCpuSeconds(child.process.pid!);
      cpu.producersNode += own.self;
      cpu.ffmpeg += own.children;
    }
    processes.start('worker', ['worker', '--analyzer', 'cost-free'], env);
    await waitForVideos(pipeline, [videoId], { timeoutMs: 600_000 });
    const frames = minutes * 60 * 2;
    const accounting = await checkAccounting(pipeline, [{ videoId, frames }]);
    const segments = segmentPlanOf(await pipeline.redis.hgetall(pipeline.keys.video(videoId)))?.length ?? 1;
    if (process.env.BENCH_KEEP_LOGS)
      writeFileSync(
        `${process.env.BENCH_KEEP_LOGS}-${results.length}.log`,
        processes.children.map((c) => `--- ${c.name}\n${c.output}`).join('\n'),
      );
    const byProducer = producers.map(
      (child) => logLines(child).filter((l) => l.msg?.startsWith('producing segment')).length,
    );
    const row = {
      round,
      run: run.name,
      producers: run.producers,
      segments,
      segmentsPerProducer: byProducer,
      productionSeconds: Number(producedSeconds.toFixed(1)),
      cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number(v.toFixed(1))])),
      accounting: accounting.problems.length === 0 ? 'exact' : accounting.problems.join('; '),
    };
    console.log(JSON.stringify(row));
    results.push(row);
  } finally {
    await processes.stopAll();
    await pipeline.close();
    await redis.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (round: number, name: string) =>
  results.find((r) => r.round === round && r.run === name)!.productionSeconds as number;
console.log(
  `\n| run | producers | segments (taken by each, last round) | production s, each round | speed-up vs one producer, whole video: each round (median) | CPU s last round: producers' Node / their ffmpeg / Redis | accounting |`,
);
console.log('| --- | ---: | --- | --- | --- | --- | --- |');
for (const run of runs) {
  const mine = results.filter((r) => r.run === run.name);
  const last = mine.at(-1)!;
  const speedups = mine.map((r) => seconds(r.round as number, runs[0]!.name) / (r.productionSeconds as number));
  const accounting = mine.every((r) => r.accounting === 'exact') ? 'exact' : mine.map((r) => r.accounting).join('; ');
  console.log(
    `| ${run.name} | ${run.producers} | ${last.segments} (${(last.segmentsPerProducer as number[]).join(' + ')}) | ${mine.map((r) => r.productionSeconds).join(', ')} | ${speedups.map((x) => x.toFixed(2)).join(', ')} (${median(speedups).toFixed(2)}×) | ${Object.values(last.cpuSeconds as Record<string, number>).join(' / ')} | ${accounting} |`,
  );
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ date: new Date().toISOString(), minutes, cpus: os.cpus()[0]?.model, results }, null, 2),
  );
rmSync(tmp, { recursive: true, force: true });
