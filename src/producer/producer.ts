// Producing one video (or one segment of it): probes and validates it, streams its sampled
// frames, packs them into chunks (one Redis value each, under the frame budget) and enqueues one
// frame job per chunk; producer-service.ts runs this for the `videos` queue. A long video is split
// at keyframes into segments, each its own job any producer takes (segments.ts). Bad input fails
// only that video, with a specific message.

import { FerError, type ErrorCode } from '../core/errors.ts';
import { hwaccelFor, resolveHwaccel } from './hwaccel.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import {
  addSegmentJobs,
  awaitAcceptance,
  beginSegment,
  enqueueFinalize,
  failVideo,
  getVideoStatus,
  loadVideoRecord,
  markSegmentProduced,
  markVideoProduced,
  recordFrameResults,
  segmentPlanOf,
  shardFrameBudget,
  unfinishedSegments,
  updateVideo,
  type Pipeline,
  type Segment,
  type VideoStatus,
} from '../pipeline/index.ts';
import { sendFrames } from './chunk-sender.ts';
import { expectedFrameCount, sampledFrameTime, workingFrameSize } from '../core/sampling-geometry.ts';
import type { SamplingOptions } from './frames.ts';
import { probeVideo, seeksExactly, type VideoProbe } from './probe.ts';
import { listFrameTimes } from './frame-times.ts';
import { samplesBySeeking } from './seek-decoding.ts';
import { planSegments } from './segments.ts';

export interface ProducerOptions {
  readonly observer?: PipelineObserver;
  readonly logger?: Logger;
  /** Run the recovery sweep in this process (default true; one process sweeps at a time). */
  readonly recovery?: boolean;
}

export interface ProduceOutcome {
  /** split: handed on as segment jobs (segments.ts). */
  readonly state: 'processing' | 'split' | 'failed' | 'skipped';
  readonly framesTotal: number;
}

/** Fails a video with a specific reason (once) and says so. */
function videoFailer(pipeline: Pipeline, videoId: string, options: ProducerOptions) {
  const log = options.logger?.child({ videoId });
  return async (error: { code: ErrorCode; message: string }): Promise<ProduceOutcome> => {
    if (await failVideo(pipeline, videoId, error)) {
      options.observer?.videoFailed?.({ reason: error.code });
      log?.warn({ code: error.code }, `video failed: ${error.message}`);
    }
    return { state: 'failed', framesTotal: 0 };
  };
}

/** How the frames are decoded, for the log: every frame, or one seek per sample (seek-decoding.ts). */
function decodeWay(probe: VideoProbe, sampling: SamplingOptions, config: Pipeline['config']): 'every frame' | 'seek' {
  return samplesBySeeking(probe, { ...sampling, seekIntervalSeconds: config.decodeSeekSeconds })
    ? 'seek'
    : 'every frame';
}

/** The hardware decoder this video is decoded with (FER_DECODE_HWACCEL, tried on it once per codec), or null. */
async function hwaccelOf(
  config: Pipeline['config'],
  file: string,
  probe: VideoProbe,
  logger?: Logger,
): Promise<string | null> {
  return hwaccelFor(
    await resolveHwaccel(config.decodeHwaccel),
    file,
    probe.videoCodec,
    config.allowedContainers,
    logger,
  );
}

const SKIPPED: ProduceOutcome = { state: 'skipped', framesTotal: 0 };

/** The sampling a video was submitted with. */
function samplingOf(status: VideoStatus): SamplingOptions {
  return {
    fps: status.options.fps,
    maxSide: status.options.maxSide,
    startSeconds: status.options.startSeconds,
    ...(status.options.endSeconds !== null ? { endSeconds: status.options.endSeconds } : {}),
    ...(status.options.maxFrames ? { maxFrames: status.options.maxFrames } : {}),
  };
}

/**
 * Frames per chunk for this frame size: a chunk must fit its shard's budget on its own, or the producer would wait
 * forever.
 */
function chunkFramesFor(pipeline: Pipeline, frameBytes: number): number {
  return Math.min(pipeline.config.chunkFrames, Math.floor(shardFrameBudget(pipeline) / frameBytes));
}

/**
 * Splits one submitted video into frame chunks, or, when it is long, into segments that producers
 * take as their own jobs. Safe to run again for the same video (chunks and results are keyed by index).
 */
export async function produceVideo(
  pipeline: Pipeline,
  videoId: string,
  options: ProducerOptions = {},
): Promise<ProduceOutcome> {
  const log = options.logger?.child({ videoId });
  // Submitted with a deadline (the API) and never confirmed in time: it was refused, never run it.
  const record = await loadVideoRecord(pipeline, videoId);
  if (!(await awaitAcceptance(pipeline, videoId, record))) return SKIPPED;
  const status = await getVideoStatus(pipeline, videoId);
  if (status === null || status.state === 'completed' || status.state === 'failed') return SKIPPED;
  // Split already (this job runs again after the recovery sweep found the video stuck): its
  // unfinished segments go back on the queue.
  const plan = segmentPlanOf(record);
  if (plan !== null) {
    await addSegmentJobs(pipeline, videoId, unfinishedSegments(record, plan));
    return { state: 'split', framesTotal: 0 };
  }
  // Run again after its producer died (or lost Redis): chunks whose frames are all done are not sent again.
  const resumed = status.state !== 'queued';
  const fail = videoFailer(pipeline, videoId, options);

  // Every state change is conditional: another run of this job (after a lost lock) or a worker
  // may have finished the video meanwhile, and then this run stops.
  if (
    !(await updateVideo(pipeline, videoId, {
      state: 'probing',
      ...(status.startedAt ? {} : { startedAt: new Date().toISOString() }),
    }))
  )
    return SKIPPED;
  const config = pipeline.config;
  let probe;
  try {
    probe = await probeVideo(status.path, config, status.name);
  } catch (error) {
    if (error instanceof FerError) return fail(error);
    throw error;
  }
  const sampling = samplingOf(status);
  if (probe.durationSeconds !== null && (sampling.startSeconds ?? 0) >= probe.durationSeconds) {
    return fail({
      code: 'invalid_option',
      message: `start time ${sampling.startSeconds} s is past the end of the video (${probe.durationSeconds} s)`,
    });
  }
  const size = workingFrameSize(probe, sampling.maxSide);
  const frameBytes = size.width * size.height * 3;
  const chunkFrames = chunkFramesFor(pipeline, frameBytes);
  if (chunkFrames < 1) {
    const shards = pipeline.keys.chunkShards.length;
    return fail({
      code: 'frame_budget_too_small',
      message: `one ${size.width}x${size.height} frame is ${frameBytes} bytes, more than the Redis frame budget of ${shardFrameBudget(pipeline)} bytes (FER_REDIS_FRAME_BUDGET_BYTES${shards > 1 ? ` / ${shards} chunk shards` : ''}); lower the working resolution`,
    });
  }
  const segments = await planVideo(status.path, probe, sampling, pipeline, log);
  const opened = await updateVideo(pipeline, videoId, {
    state: 'producing',
    probe: JSON.stringify({ ...probe, frameWidth: size.width, frameHeight: size.height }),
    ...(probe.durationSeconds !== null ? { framesExpected: expectedFrameCount(probe.durationSeconds, sampling) } : {}),
    ...(segments.length > 1 ? { segmentPlan: JSON.stringify(segments) } : {}),
  });
  if (!opened) return SKIPPED;
  if (segments.length > 1) {
    await addSegmentJobs(pipeline, videoId, segments);
    log?.info(
      { probe, frame: size, segments: segments.length },
      `split into ${segments.length} segments for producers to decode side by side`,
    );
    return { state: 'split', framesTotal: 0 };
  }
  const hwaccel = await hwaccelOf(config, status.path, probe, options.logger);
  log?.info(
    { probe, frame: size, chunkFrames, hwaccel: hwaccel ?? 'none', decode: decodeWay(probe, sampling, config) },
    'producing frames',
  );

  let sent;
  try {
    sent = await sendFrames(pipeline, {
      videoId,
      path: status.path,
      probe,
      size,
      sampling,
      chunkFrames,
      resumed,
      hwaccel,
      observer: options.observer,
    });
  } catch (error) {
    if (error instanceof FerError) return fail(error);
    throw error;
  }
  if (sent.closed) {
    log?.info('the video was finished elsewhere while this run produced it: stopped');
    return SKIPPED;
  }
  if (sent.frames === 0)
    return fail({
      code: 'no_frames',
      message: 'ffmpeg decoded no frames from this video at the requested sampling (empty or unreadable video stream)',
    });
  await recordDecodeErrors(pipeline, videoId, 'decodeErrors', sent.decodeErrors, log);
  log?.info(
    {
      frames: sent.frames,
      chunks: sent.chunks,
      ...(resumed ? { resumed: true, chunksAlreadyDone: sent.chunksSkipped } : {}),
    },
    'all frames enqueued',
  );
  if (await markVideoProduced(pipeline, videoId, sent.frames, sent.chunks)) await enqueueFinalize(pipeline, videoId);
  return { state: 'processing', framesTotal: sent.frames };
}

/** The segments of a video (one when it is short, splitting is off, or its keyframes cannot be listed). */
async function planVideo(
  file: string,
  probe: VideoProbe,
  sampling: SamplingOptions,
  pipeline: Pipeline,
  log?: Logger,
): Promise<Segment[]> {
  const config = pipeline.config;
  const whole: Segment[] = [{ index: 0, firstIndex: 0, frames: null }];
  const span =
    Math.min(probe.durationSeconds ?? 0, sampling.endSeconds ?? Number.POSITIVE_INFINITY) -
    (sampling.startSeconds ?? 0);
  if (!(config.segmentSeconds > 0) || probe.durationSeconds === null || span <= config.segmentSeconds) return whole;
  if (!seeksExactly(probe)) {
    log?.info(
      { container: probe.container },
      'not split into segments: its container cannot seek exactly to a segment start (decoded in one piece)',
    );
    return whole;
  }
  let keyframes: readonly number[];
  try {
    ({ keyframes } = await listFrameTimes(file, {
      startTime: probe.startTime,
      allowedContainers: config.allowedContainers,
      timeoutMs: config.probeTimeoutMs,
    }));
  } catch (error) {
    log?.warn(
      { reason: (error as Error).message.split('\n')[0] },
      'could not list the keyframes: producing the video in one piece',
    );
    return whole;
  }
  return planSegments({
    durationSeconds: probe.durationSeconds,
    startSeconds: sampling.startSeconds ?? 0,
    endSeconds: sampling.endSeconds,
    fps: sampling.fps,
    maxFrames: sampling.maxFrames,
    keyframes,
    segmentSeconds: config.segmentSeconds,
  });
}

/**
 * Damage ffmpeg reported, per run of the whole video or of one segment (`field`; a rerun replaces its count, the status
 * sums them).
 */
async function recordDecodeErrors(
  pipeline: Pipeline,
  videoId: string,
  field: string,
  decodeErrors: number,
  log?: Logger,
): Promise<void> {
  if (decodeErrors === 0) return;
  await updateVideo(pipeline, videoId, { [field]: decodeErrors });
  log?.warn({ decodeErrors }, 'ffmpeg reported damage in the video stream (frames concealed or dropped)');
}

/**
 * Produces one segment of a video split by produceVideo: its frames, chunked and enqueued like a
 * whole video's. A segment that ends before its planned count (ffmpeg stopped early) records the
 * frames it could not give as failed, so every index of the video is accounted for once.
 */
export async function produceSegment(
  pipeline: Pipeline,
  videoId: string,
  segmentIndex: number,
  options: ProducerOptions = {},
): Promise<ProduceOutcome> {
  const log = options.logger?.child({ videoId, segment: segmentIndex });
  const record = await loadVideoRecord(pipeline, videoId);
  const status = await getVideoStatus(pipeline, videoId);
  const plan = segmentPlanOf(record);
  const segment = plan?.[segmentIndex];
  if (
    status === null ||
    status.state === 'completed' ||
    status.state === 'failed' ||
    !plan ||
    !segment ||
    !status.probe
  )
    return SKIPPED;
  if (record[`segmentFrames:${segmentIndex}`] !== undefined) return SKIPPED;
  const fail = videoFailer(pipeline, videoId, options);
  const resumed = await beginSegment(pipeline, videoId, segmentIndex);
  const { frameWidth, frameHeight, ...probe } = status.probe;
  const size = { width: frameWidth, height: frameHeight };
  const sampling = samplingOf(status);
  const chunkFrames = chunkFramesFor(pipeline, size.width * size.height * 3);
  const config = pipeline.config;
  const hwaccel = await hwaccelOf(config, status.path, probe, options.logger);
  log?.info(
    {
      firstIndex: segment.firstIndex,
      frames: segment.frames,
      hwaccel: hwaccel ?? 'none',
      decode: decodeWay(probe, sampling, config),
      ...(resumed ? { resumed: true } : {}),
    },
    `producing segment ${segmentIndex + 1} of ${plan.length}`,
  );
  let sent;
  try {
    sent = await sendFrames(pipeline, {
      videoId,
      path: status.path,
      probe,
      size,
      sampling,
      chunkFrames,
      segment,
      resumed,
      hwaccel,
      observer: options.observer,
    });
  } catch (error) {
    if (error instanceof FerError)
      return fail({
        code: error.code,
        message: `segment ${segmentIndex + 1} of ${plan.length} (from ${sampledFrameTime(segment.firstIndex, sampling)} s): ${error.message}`,
      });
    throw error;
  }
  if (sent.closed) return SKIPPED;
  await recordDecodeErrors(pipeline, videoId, `decodeErrors:${segmentIndex}`, sent.decodeErrors, log);
  let frames = sent.frames;
  if (segment.frames !== null && frames < segment.frames) {
    const missing = Array.from({ length: segment.frames - frames }, (_, i) => segment.firstIndex + frames + i);
    log?.warn(
      { missing: missing.length },
      'ffmpeg ended the segment before its last frame: the frames it did not give are recorded as failed',
    );
    const error = 'frame not decoded: ffmpeg ended its segment early (damaged or truncated video)';
    await recordFrameResults(
      pipeline,
      videoId,
      missing.map((index) => ({ index, timestamp: sampledFrameTime(index, sampling), faces: [], error })),
      { onlyMissing: true },
    );
    frames = segment.frames;
  }
  log?.info(
    { frames, chunks: sent.chunks, ...(resumed ? { resumed: true, chunksAlreadyDone: sent.chunksSkipped } : {}) },
    `segment ${segmentIndex + 1} of ${plan.length}: all frames enqueued`,
  );
  if (await markSegmentProduced(pipeline, videoId, segmentIndex, plan.length, frames))
    await enqueueFinalize(pipeline, videoId);
  return { state: 'processing', framesTotal: frames };
}
