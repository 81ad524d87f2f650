// `fer-stream analyze VIDEO... [--fps N] [--out DIR] [--model DIR]`: the single-machine mode —
// producer, worker and aggregation in this one process against REDIS_URL; progress on the
// terminal; JSON, CSV and SVG timeline written per video; a short summary at the end.

import { count } from '../plural.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { startProcessMetrics } from '../../metrics/process.ts';
import { deleteVideo, getVideoResult, submitVideo, waitForVideos, type VideoOptions, type VideoStatus } from '../../pipeline/index.ts';
import { startProducer, writeAnnotatedVideo } from '../../producer/index.ts';
import { renderTimelinePng, renderTimelineSvg, toCsv, toPersonsCsv, toTracksCsv, type VideoResult } from '../../results/index.ts';
import { startWorker } from '../../worker/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';
import { withRedisForOneMachine } from '../private-redis.ts';
import { applyNoDetect, NO_DETECT_OPTION, NO_DETECT_USAGE, trackingFor } from '../faces-options.ts';
import type { FrameAnalyzer } from '../../core/types.ts';
import type { ProfileChoice } from '../../inference/profiles.ts';
import { createFrameAnalyzer, DEFAULT_MODEL, parseAnalyzerKind } from '../frame-analyzer.ts';
import { createProgressView, type ProgressView } from '../progress.ts';
import { createCommandLogger } from '../terminal-log.ts';
import { abandonQueuedInference } from '../../inference/backend/index.ts';
import { InterruptedError, untilAborted, watchInterrupts } from '../interrupt.ts';

function optionalNumber(name: string, value: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${what}, got "${value}"`);
  return n;
}

const analyze: Command = {
  summary: 'Analyse videos on this machine (producer, worker and aggregation in one process)',
  usage: [
    'Usage: fer-stream analyze VIDEO... [--fps N] [--out DIR] [--profile P] [--model DIR] [options]',
    '',
    '  --fps N          frames sampled per second (default FER_FPS, 2)',
    '  --out DIR        where result files go (default ./fer-results): NAME.json, NAME.csv (per face),',
    '                   NAME.tracks.csv (per track), NAME.persons.csv (per person), NAME.svg and',
    '                   NAME.png (the timeline chart)',
    '  --annotate       also NAME.annotated.mp4: the video with every face\'s box, track and expression',
    '  --profile P      faces mode models: compact (BlazeFace + face-api, works offline), vit (detector',
    '                   + ViT) or auto (default FER_PROFILE: vit when installed, else compact — and says so)',
    `  --model DIR      the expression model directory (default: the profile's); faces are still`,
    '                   detected first (whole frames only with --no-detect)',
    '  --start S        start sampling S seconds into each video',
    '  --end S          stop sampling at S seconds',
    '  --max-frames N   sample at most N frames per video',
    '  --max-side N     working resolution: long side of sampled frames (default FER_FRAME_MAX_SIDE)',
    '  --analyzer KIND  faces (default: detect, then classify each face), whole-frame (the classifier',
    '                   on the whole frame; = --no-detect, default with FER_DETECT=false) or cost-free',
    '                   (no model, measures the pipeline itself)',
    NO_DETECT_USAGE,
    '',
    'Uses Redis at REDIS_URL (default redis://127.0.0.1:6379); when REDIS_URL is unset and nothing',
    'answers there, starts a private redis-server (from PATH) on a Unix socket for the command. Other',
    'workers on the same Redis help with the work. Exit codes: 0 every video analysed, 3 some videos failed, 1 all failed',
    '(or another error), 2 bad usage, 4 Redis unreachable, 130 interrupted (Ctrl-C or SIGTERM: its',
    'videos are cancelled and removed from Redis; a second Ctrl-C quits at once, leaving them).',
    '/metrics is served only when FER_METRICS_ENABLED is set explicitly.',
  ].join('\n'),
  // A private Redis when none runs and REDIS_URL is unset (src/cli/private-redis.ts).
  run: (args) => withRedisForOneMachine(() => analyzeVideos(args)),
};

async function analyzeVideos(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    fps: { type: 'string' },
    out: { type: 'string', default: 'fer-results' },
    model: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    'max-frames': { type: 'string' },
    'max-side': { type: 'string' },
    analyzer: { type: 'string' },
    profile: { type: 'string' },
    annotate: { type: 'boolean', default: false },
    ...NO_DETECT_OPTION,
  });
  if (positionals.length === 0) throw new UsageError('give at least one video file');
  const fps = optionalNumber('fps', values.fps, (n) => n > 0 && n <= 240, 'a number in (0, 240]');
  const startSeconds = optionalNumber('start', values.start, (n) => n >= 0, 'a number of seconds ≥ 0');
  const endSeconds = optionalNumber('end', values.end, (n) => n > (startSeconds ?? 0), 'a number of seconds after --start');
  const maxFrames = optionalNumber('max-frames', values['max-frames'], (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const maxSide = optionalNumber('max-side', values['max-side'], (n) => Number.isInteger(n) && n >= 16 && n <= 8192, 'an integer in [16, 8192]');
  const kind = applyNoDetect(parseAnalyzerKind(values.analyzer), values['no-detect']);
  const options: VideoOptions = Object.fromEntries(Object.entries({ fps, startSeconds, endSeconds, maxFrames, maxSide }).filter(([, v]) => v !== undefined));

  const config = loadConfig();
  // Logs only from warnings up unless LOG_LEVEL says otherwise: on a terminal as human lines
  // above the progress bars (never over them), otherwise JSON on stderr.
  let view: ProgressView | undefined;
  const logger = createCommandLogger('analyze', () => view);
  const onProfile = (c: ProfileChoice) => console.log(c.explicit ? `profile: ${c.profile}` : `profile: ${c.profile} — ${c.reason} (choose with --profile)`);
  // A one-shot command serves /metrics only when asked to (FER_METRICS_ENABLED set explicitly).
  const metrics = config.metrics.enabled && process.env.FER_METRICS_ENABLED !== undefined ? await startProcessMetrics(config.metrics, { role: 'analyze', logger }) : undefined;
  const observer = metrics?.observer;
  const names = new Map<string, string>();
  // Ctrl-C or SIGTERM cancels: queued inference is dropped (the batches running finish), the
  // videos are cancelled and deleted, nothing stays in Redis, and the exit code is 130. A second
  // Ctrl-C ends the process at once.
  const interrupts = watchInterrupts((signal) => {
    logger.warn(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: cancelling ${names.size} video(s) and removing them from Redis (again to quit at once, leaving them)`);
    void abandonQueuedInference('the command was interrupted');
  });
  // The models load while Redis is connected and the videos are probed and their first chunks
  // decoded (≈0.25 s int8, ≈0.7 s fp32 ViT-B/16 here); the worker starts once they are loaded.
  const loading = createFrameAnalyzer({ kind, config, profile: values.profile, onProfile, ...(values.model ? { modelDir: values.model } : {}), logger, ...(observer ? { observer } : {}) });
  loading.catch(() => undefined);
  const closeLoaded = () => loading.then((a) => a.close(), () => undefined);
  const pipeline = await openPipeline(config).catch(async (error: unknown) => {
    interrupts.dispose();
    await closeLoaded();
    await metrics?.close();
    throw error;
  });
  const producer = startProducer(pipeline, { logger, ...(observer ? { observer } : {}) });
  // Nothing of this command stays behind in Redis when it ends early: its videos are cancelled and deleted.
  const removeVideos = async (): Promise<number> => {
    let left = 0;
    for (const id of names.keys()) await deleteVideo(pipeline, id).catch(() => (left += 1));
    return left;
  };
  let analyzer: FrameAnalyzer;
  try {
    for (const video of positionals) {
      interrupts.signal.throwIfAborted();
      const { videoId } = await submitVideo(pipeline, { path: video, options });
      names.set(videoId, video);
    }
    analyzer = await untilAborted(loading, interrupts.signal);
  } catch (error) {
    interrupts.dispose();
    await producer.close();
    const left = await removeVideos();
    await closeLoaded();
    await metrics?.close();
    await pipeline.close();
    throw interrupted(error, names.size, left);
  }
  // Which model file runs and why (FER_MODEL_VARIANT=auto: int8 where measured good enough).
  if (analyzer.info.variant?.reason) console.log(`model: ${analyzer.info.name} — ${analyzer.info.variant.reason}`);
  const worker = startWorker(pipeline, { analyzer, logger, finalizeOptions: trackingFor(analyzer, config), ...(observer ? { observer } : {}) });

  const outDir = path.resolve(values.out);
  let statuses: Map<string, VideoStatus> | undefined;
  let failure: unknown;
  const display = createProgressView(process.stdout, names);
  view = display;
  try {
    statuses = await waitForVideos(pipeline, [...names.keys()], { onProgress: (s) => display.update(s), pollMs: 150, signal: interrupts.signal });
  } catch (error) {
    failure = error;
  } finally {
    display.done();
    view = undefined;
  }
  interrupts.dispose();
  await producer.close();
  await worker.close();
  await metrics?.close();
  if (statuses === undefined) {
    const left = await removeVideos();
    await pipeline.close();
    throw interrupted(failure, names.size, left);
  }

  await mkdir(outDir, { recursive: true });
  const used = new Set<string>();
  let completed = 0;
  const lines: string[] = [''];
  try {
    for (const [id, video] of names) {
      const status = statuses.get(id)!;
      if (status.state !== 'completed') {
        lines.push(`${video}: FAILED (${status.error?.code ?? 'unknown'}) ${status.error?.message ?? ''}`);
        continue;
      }
      const result = await getVideoResult<VideoResult>(pipeline, id);
      if (result === null) {
        lines.push(`${video}: completed, but its result is no longer in Redis`);
        continue;
      }
      completed += 1;
      const base = uniqueName(path.parse(video).name, used);
      const file = (ext: string) => path.join(outDir, `${base}.${ext}`);
      await writeFile(file('json'), JSON.stringify(result, null, 2));
      await writeFile(file('csv'), toCsv(result));
      await writeFile(file('tracks.csv'), toTracksCsv(result));
      await writeFile(file('persons.csv'), toPersonsCsv(result));
      await writeFile(file('svg'), renderTimelineSvg(result));
      await writeFile(file('png'), await renderTimelinePng(result));
      if (values.annotate) {
        await writeAnnotatedVideo({ source: video, result, out: file('annotated.mp4'), allowedContainers: config.pipeline.allowedContainers }).catch((error: Error) => {
          lines.push(`${video}: ${error.message}`);
        });
      }
      const c = result.counts;
      const dominant = result.dominant ? `${result.dominant.label} (${(result.dominant.frameShare * 100).toFixed(0)}% of frames)` : 'none';
      const reused = c.reusedFaces > 0 ? `, ${c.reusedFaces} of ${count(c.faces, 'face')} reused` : '';
      const people = result.persons.length > 0 ? `, ${count(result.persons.length, 'person')}` : c.tracks > 0 ? `, ${count(c.tracks, 'track')}` : '';
      const written = ['json', 'csv', 'tracks.csv', 'persons.csv', 'svg', 'png', ...(values.annotate ? ['annotated.mp4'] : [])].map((ext) => `${base}.${ext}`);
      lines.push(`${video}: ${count(c.sampled, 'frame')} (${c.failed} failed${reused})${people}, dominant ${dominant} → ${path.join(outDir, written[0]!)}, ${written.slice(1).join(', ')}`);
      for (const p of result.persons) lines.push(`  person ${p.personId}: ${p.screenTimeSeconds.toFixed(1)} s on screen, ${p.dominant ? `mostly ${p.dominant.label} (${(p.dominant.frameShare * 100).toFixed(0)}% of their frames)` : 'no expression'}`);
    }
  } finally {
    await pipeline.close();
  }
  console.log(lines.join('\n'));
  if (completed === names.size) return EXIT_CODES.ok;
  return completed === 0 ? EXIT_CODES.failure : EXIT_CODES.partial;
}

/** An interruption says what it cancelled (`left`: videos that could not be removed); any other error passes unchanged. */
function interrupted(error: unknown, videos: number, left: number): unknown {
  if (!(error instanceof InterruptedError)) return error;
  const removed = left === 0 ? 'nothing of them left in Redis' : `${left} could not be removed from Redis (fer-stream cancel ID removes them)`;
  return new InterruptedError(`${error.message}: ${videos} video(s) cancelled, ${removed}`);
}

function uniqueName(stem: string, used: Set<string>): string {
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}

export default analyze;
