// `fer-stream analyze VIDEO... [--fps N] [--out DIR] [--model DIR]`: the single-machine mode —
// producer, worker and aggregation in this one process against REDIS_URL (or a private Redis);
// progress on the terminal; each video's JSON, CSVs and charts written as it ends; a summary.

import { settingInEnvironment } from '../../config/process-env.ts';
import { count } from '../plural.ts';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { startProcessMetrics } from '../../metrics/process.ts';
import {
  deleteVideo,
  heldChunkJobIds,
  purgeDeletedVideoChunks,
  submitVideo,
  waitForVideos,
  type VideoOptions,
  type VideoStatus,
} from '../../pipeline/index.ts';
import { startProducer } from '../../producer/index.ts';
import { VideoOutputs, type VideoOutcome } from '../analyze-outputs.ts';
import { startWorker } from '../../worker/index.ts';
import { numberOption, parseCommandArgs, UsageError } from '../args.ts';
import { SAMPLING_FLAGS, samplingChoice } from '../sampling-flags.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';
import { withRedisForOneMachine } from '../private-redis.ts';
import { ANALYZER_FLAGS, analyzerChoice, NO_DETECT_USAGE } from '../faces-options.ts';
import { trackingFor } from '../../app/tracking.ts';
import type { FrameAnalyzer } from '../../core/types.ts';
import type { ProfileChoice } from '../../inference/profiles.ts';
import { createFrameAnalyzer } from '../../app/frame-analyzer.ts';
import { createProgressView, type ProgressView } from '../progress.ts';
import { createCommandLogger } from '../terminal-log.ts';
import { abandonQueuedInference } from '../../inference/backend/index.ts';
import { InterruptedError, untilAborted, watchInterrupts } from '../interrupt.ts';

const analyze: Command = {
  summary: 'Analyse videos on this machine (producer, worker and aggregation in one process)',
  usage: [
    'Usage: fer-stream analyze VIDEO... [--fps N] [--out DIR] [--profile P] [--model DIR] [options]',
    '',
    '  --fps N          frames sampled per second (default FER_FPS, 2)',
    '  --out DIR        where result files go (default ./fer-results): NAME.json, NAME.csv (per face),',
    '                   NAME.tracks.csv (per track), NAME.persons.csv (per person), NAME.svg and',
    '                   NAME.png (the timeline chart)',
    "  --annotate       also NAME.annotated.mp4: the video with every face's box, track and expression",
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
    '  --batch-delay-ms N  with --analyzer cost-free: pretend each batch takes N ms (tests, benches)',
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
    out: { type: 'string', default: 'fer-results' },
    ...SAMPLING_FLAGS,
    'max-side': { type: 'string' },
    annotate: { type: 'boolean', default: false },
    ...ANALYZER_FLAGS,
  });
  if (positionals.length === 0) throw new UsageError('give at least one video file');
  const sampling = samplingChoice(values);
  const maxSide = numberOption(
    'max-side',
    values['max-side'],
    (n) => Number.isInteger(n) && n >= 16 && n <= 8192,
    'an integer in [16, 8192]',
  );
  const choice = analyzerChoice(values);
  const options: VideoOptions = Object.fromEntries(
    Object.entries({ ...sampling, maxSide }).filter(([, v]) => v !== undefined),
  );

  const config = loadConfig();
  // Logs only from warnings up unless LOG_LEVEL says otherwise: on a terminal as human lines
  // above the progress bars (never over them), otherwise JSON on stderr.
  let view: ProgressView | undefined;
  const logger = createCommandLogger('analyze', () => view);
  const onProfile = (c: ProfileChoice) => {
    console.log(c.explicit ? `profile: ${c.profile}` : `profile: ${c.profile} — ${c.reason}`);
    if (c.details) logger.debug(c.details);
  };
  // A one-shot command serves /metrics only when asked to (FER_METRICS_ENABLED set explicitly).
  const metrics =
    config.metrics.enabled && settingInEnvironment('metrics.enabled') !== undefined
      ? await startProcessMetrics(config.metrics, { role: 'analyze', logger })
      : undefined;
  const observer = metrics?.observer;
  const names = new Map<string, string>();
  /** Videos that ended (completed or failed): their files are written, an interrupt keeps them. */
  const finished = new Set<string>();
  // Ctrl-C or SIGTERM cancels: queued inference is dropped (the batches running finish), the
  // videos are cancelled and deleted, nothing stays in Redis, and the exit code is 130. A second
  // Ctrl-C ends the process at once.
  const interrupts = watchInterrupts((signal) => {
    const open = names.size - finished.size;
    logger.warn(
      `${signal === 'SIGINT' ? 'Ctrl-C' : signal}: cancelling ${open} unfinished video(s) and removing them from Redis, keeping the results of the finished ones (again to quit at once)`,
    );
    void abandonQueuedInference('the command was interrupted');
  });
  // The models load while Redis is connected and the videos are probed and their first chunks
  // decoded (≈0.25 s int8, ≈0.7 s fp32 ViT-B/16 here); the worker starts once they are loaded.
  const loading = createFrameAnalyzer({
    ...choice,
    config,
    onProfile,
    logger,
    ...(observer ? { observer } : {}),
  });
  loading.catch(() => undefined);
  const closeLoaded = () =>
    loading.then(
      (a) => a.close(),
      () => undefined,
    );
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
    for (const id of names.keys()) if (!finished.has(id)) await deleteVideo(pipeline, id).catch(() => (left += 1));
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
  const worker = startWorker(pipeline, {
    analyzer,
    logger,
    finalizeOptions: trackingFor(analyzer, config),
    ...(observer ? { observer } : {}),
  });

  const outDir = path.resolve(values.out);
  await mkdir(outDir, { recursive: true });
  // Each video's files are written the moment it ends: an interrupted run keeps every finished one.
  const outputs = new VideoOutputs({
    pipeline,
    outDir,
    annotate: values.annotate === true,
    allowedContainers: config.pipeline.allowedContainers,
  });
  let statuses: Map<string, VideoStatus> | undefined;
  let failure: unknown;
  const display = createProgressView(process.stdout, names);
  view = display;
  try {
    statuses = await waitForVideos(pipeline, [...names.keys()], {
      onProgress: (latest) => {
        display.update(latest);
        for (const [id, status] of latest) {
          if (status.state !== 'completed' && status.state !== 'failed') continue;
          finished.add(id);
          outputs.finished(status, names.get(id)!).catch(() => undefined);
        }
      },
      pollMs: 150,
      signal: interrupts.signal,
    });
  } catch (error) {
    failure = error;
  } finally {
    display.done();
    view = undefined;
  }
  interrupts.dispose();
  if (statuses === undefined) {
    // Interrupted (or failed): the unfinished videos are cancelled first, which gives back their
    // budget and stops their producer at its next chunk, so closing below does not wait on them.
    const unfinished = [...names.keys()].filter((id) => !finished.has(id));
    // Frame jobs a worker holds now cannot be removed yet: known here, removed once it let go of them.
    const heldJobs = new Map(
      await Promise.all(
        unfinished.map(async (id) => [id, await heldChunkJobIds(pipeline, id).catch(() => [])] as const),
      ),
    );
    const left = await removeVideos();
    // Their jobs end quickly now (queued inference was dropped, their producers stop at the next
    // chunk); should one not within 7 s, stop without waiting — the exit must not hang on it.
    const closed = Promise.all([producer.close(), worker.close()]);
    if (
      !(await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 7000).unref()),
      ]))
    ) {
      await Promise.all([producer.close(true), worker.close(true)]);
    }
    // A chunk a producer was writing as its video was removed: given back now that no producer runs.
    for (const id of unfinished) await purgeDeletedVideoChunks(pipeline, id, heldJobs.get(id)).catch(() => undefined);
    await metrics?.close();
    const kept = await outputs.all([...names.keys()]);
    await pipeline.close();
    for (const outcome of kept.values()) console.log(outcome.lines.join('\n'));
    throw interrupted(failure, names.size - kept.size, left, kept.size);
  }
  await producer.close();
  await worker.close();
  await metrics?.close();
  let outcomes: Map<string, VideoOutcome>;
  try {
    for (const [id, status] of statuses) await outputs.finished(status, names.get(id)!);
    outcomes = await outputs.all([...names.keys()]);
  } finally {
    await pipeline.close();
  }
  console.log(['', ...[...outcomes.values()].flatMap((o) => o.lines)].join('\n'));
  const completed = [...outcomes.values()].filter((o) => o.completed).length;
  if (completed === names.size) return EXIT_CODES.ok;
  return completed === 0 ? EXIT_CODES.failure : EXIT_CODES.partial;
}

/**
 * An interruption says what it cancelled (`left`: videos that could not be removed) and kept; any other error passes
 * unchanged.
 */
function interrupted(error: unknown, cancelled: number, left: number, kept = 0): unknown {
  if (!(error instanceof InterruptedError)) return error;
  const removed =
    left === 0
      ? 'nothing of them left in Redis'
      : `${left} could not be removed from Redis (fer-stream cancel ID removes them)`;
  const finished = kept > 0 ? `; the results of ${count(kept, 'finished video')} are written above` : '';
  return new InterruptedError(`${error.message}: ${cancelled} video(s) cancelled, ${removed}${finished}`);
}

export default analyze;
