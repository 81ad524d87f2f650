// Video records in Redis: submission and acceptance, and reading a video's status and stored
// result (the CLI and the HTTP API). Writing while a video is worked on: video-progress.ts.
//
// States: queued → probing → producing → processing (every frame enqueued) → completed | failed.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { FerError } from '../core/errors.ts';
import type { Pipeline } from './context.ts';
import type { WebhookDelivery } from './webhooks.ts';
import { segmentsProduced } from './segments.ts';
import { PRODUCER_JOB_OPTIONS } from './job-states.ts';
import { decodeStoredProbe, type StoredProbe } from '../core/sampling-geometry.ts';

export type VideoState = 'queued' | 'probing' | 'producing' | 'processing' | 'completed' | 'failed';

/** Per-video processing options; absent fields take the pipeline configuration's values. */
export interface VideoOptions {
  readonly fps?: number;
  readonly startSeconds?: number;
  readonly endSeconds?: number;
  readonly maxFrames?: number;
  /** Long side of the working resolution. */
  readonly maxSide?: number;
}

/** Options as the video was processed (defaults resolved at submission). */
export interface ResolvedVideoOptions {
  readonly fps: number;
  readonly startSeconds: number;
  readonly endSeconds: number | null;
  readonly maxFrames: number;
  readonly maxSide: number;
}

export interface VideoStatus {
  readonly videoId: string;
  readonly state: VideoState;
  /** File name shown to users (the upload's name, or the base name of the path). */
  readonly name: string;
  /** Where the producer reads the file (a path every producer can see). */
  readonly path: string;
  readonly options: ResolvedVideoOptions;
  readonly submittedAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  /** ffprobe facts, once probed. */
  readonly probe: StoredProbe | null;
  readonly progress: {
    /** Frames the sampling should give (from the probed duration), before extraction ends. */
    readonly framesExpected: number | null;
    readonly framesProduced: number;
    /** Exact number of sampled frames, known once the producer has finished. */
    readonly framesTotal: number | null;
    readonly framesDone: number;
    readonly framesFailed: number;
  };
  readonly error: { readonly code: string; readonly message: string } | null;
  /** The API token's name that submitted it (null: submitted without a token). */
  readonly owner: string | null;
  /** End-of-video notifications and how their delivery went (src/pipeline/webhooks.ts). */
  readonly webhooks: readonly WebhookDelivery[];
  /** Damage ffmpeg reported while decoding (frames concealed or dropped), counted by the producer. */
  readonly decodeErrors: number;
}

export interface SubmitVideoInput {
  /** A file every producer process can read. */
  readonly path: string;
  readonly name?: string;
  readonly options?: VideoOptions;
  /** Who submitted it (the API token's name); only they see it through the API. */
  readonly owner?: string;
  /** Told when the video ends (src/pipeline/webhooks.ts). */
  readonly callbackUrl?: string;
  /**
   * The caller acknowledges the submission only if Redis confirms it by this time (ms since the
   * epoch, compared with Redis's clock: the machines' clocks are assumed synchronised); a
   * confirmation arriving later deletes the submission instead, so it never runs (the API).
   */
  readonly acceptBy?: number;
  /** Aborted: the caller gave up (and answered an error); no further step is sent. */
  readonly signal?: AbortSignal;
}

/** Checks options and fills in the configured defaults; throws FerError `invalid_option`. */
export function resolveVideoOptions(pipeline: Pipeline, options: VideoOptions = {}): ResolvedVideoOptions {
  const c = pipeline.config;
  const resolved: ResolvedVideoOptions = {
    fps: options.fps ?? c.fps,
    startSeconds: options.startSeconds ?? 0,
    endSeconds: options.endSeconds ?? null,
    maxFrames: options.maxFrames ?? c.maxFrames,
    maxSide: options.maxSide ?? c.frameMaxSide,
  };
  const bad = (message: string) => new FerError('invalid_option', message);
  if (!(resolved.fps > 0 && resolved.fps <= 240)) throw bad(`fps must be in (0, 240], got ${resolved.fps}`);
  if (!(resolved.startSeconds >= 0)) throw bad(`start time must be ≥ 0 s, got ${resolved.startSeconds}`);
  if (resolved.endSeconds !== null && !(resolved.endSeconds > resolved.startSeconds)) {
    throw bad(`end time (${resolved.endSeconds} s) must be after the start time (${resolved.startSeconds} s)`);
  }
  if (!Number.isInteger(resolved.maxFrames) || resolved.maxFrames < 0)
    throw bad(`max frames must be an integer ≥ 0, got ${resolved.maxFrames}`);
  if (c.maxFrames > 0 && (resolved.maxFrames === 0 || resolved.maxFrames > c.maxFrames)) {
    throw bad(
      `max frames ${resolved.maxFrames || 'unlimited'} exceeds the configured limit of ${c.maxFrames} (FER_MAX_FRAMES)`,
    );
  }
  if (!Number.isInteger(resolved.maxSide) || resolved.maxSide < 16 || resolved.maxSide > 8192) {
    throw bad(`working resolution long side must be an integer in [16, 8192], got ${resolved.maxSide}`);
  }
  return resolved;
}

/** A video record's sampling options as submitted (its `options` field; the defaults of the time when absent). */
export function storedVideoOptions(record: Readonly<Record<string, string>>): ResolvedVideoOptions {
  return JSON.parse(record.options ?? '{}') as ResolvedVideoOptions;
}
/**
 * Registers a video and enqueues it for a producer. Returns at once with its id; probing and
 * validation happen in the producer, and bad input then fails the video with a specific message.
 */
export async function submitVideo(pipeline: Pipeline, input: SubmitVideoInput): Promise<{ videoId: string }> {
  const options = resolveVideoOptions(pipeline, input.options);
  const videoId = randomUUID();
  const now = new Date();
  const k = pipeline.keys;
  const record: Record<string, string | number> = {
    videoId,
    state: 'queued',
    name: input.name ?? path.basename(input.path),
    path: path.resolve(input.path),
    options: JSON.stringify(options),
    submittedAt: now.toISOString(),
    framesProduced: 0,
    framesDone: 0,
    framesFailed: 0,
    ...(input.owner !== undefined ? { owner: input.owner } : {}),
    ...(input.callbackUrl !== undefined ? { callbackUrl: input.callbackUrl } : {}),
  };
  if (input.acceptBy === undefined) {
    await pipeline.redis
      .multi()
      .hset(k.video(videoId), record)
      .zadd(k.videoIndex, now.getTime(), videoId)
      .zadd(k.activeVideos, now.getTime(), videoId)
      .exec();
    await addVideoJob(pipeline, videoId);
    return { videoId };
  }
  // Created unaccepted, job queued, then confirmed: a producer waits for the confirmation, and a
  // confirmation arriving after the deadline deletes the record instead (see ACCEPT_VIDEO).
  const givenUp = () => {
    if (input.signal?.aborted)
      throw new FerError('redis_timeout', 'the submission was abandoned before Redis confirmed it; it was not queued');
  };
  // Found by the stuck-video sweep 5 s after the deadline if never confirmed (and then deleted).
  const sweepAt = input.acceptBy + 5000 - pipeline.config.videoStallSeconds * 1000;
  const created = Number(
    await pipeline.redis.acceptVideo(
      k.video(videoId),
      k.videoIndex,
      k.activeVideos,
      'create',
      videoId,
      input.acceptBy,
      sweepAt,
      ...Object.entries(record).flat(),
    ),
  );
  givenUp();
  if (created !== 1)
    throw new FerError('redis_timeout', 'Redis took the submission after its deadline; it was not queued');
  await addVideoJob(pipeline, videoId);
  givenUp();
  if (
    Number(await pipeline.redis.acceptVideo(k.video(videoId), k.videoIndex, k.activeVideos, 'confirm', videoId)) !== 1
  ) {
    throw new FerError('redis_timeout', 'Redis did not confirm the submission in time; it was not queued');
  }
  return { videoId };
}

/** Enqueues (or, for recovery, re-enqueues) the producer job of a video; its id is the video id. */
export async function addVideoJob(pipeline: Pipeline, videoId: string): Promise<void> {
  await pipeline.queues.videos.add('video', { videoId }, { jobId: videoId, ...PRODUCER_JOB_OPTIONS });
}

/**
 * For producers: whether a submission made with a deadline was accepted. Waits (polling) while
 * it is still within its deadline; deletes it, and answers false, once it is past it unconfirmed.
 */
export async function awaitAcceptance(
  pipeline: Pipeline,
  videoId: string,
  record: Record<string, string>,
  wait = true,
): Promise<boolean> {
  if (record.accepted === undefined || record.accepted === '1') return true;
  const k = pipeline.keys;
  for (;;) {
    const outcome = Number(
      await pipeline.redis.acceptVideo(k.video(videoId), k.videoIndex, k.activeVideos, 'expire', videoId),
    );
    if (outcome !== -1) return outcome === 1;
    if (!wait) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The video's state and progress, or null when unknown (never submitted, or past retention). */
export async function getVideoStatus(pipeline: Pipeline, videoId: string): Promise<VideoStatus | null> {
  const [h, hooks] = await Promise.all([
    pipeline.redis.hgetall(pipeline.keys.video(videoId)),
    pipeline.redis.hgetall(pipeline.keys.videoWebhooks(videoId)),
  ]);
  if (!h.state) return null;
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  return {
    videoId,
    state: h.state as VideoState,
    name: h.name ?? '',
    path: h.path ?? '',
    options: storedVideoOptions(h),
    submittedAt: h.submittedAt ?? '',
    startedAt: h.startedAt ?? null,
    completedAt: h.completedAt ?? null,
    probe: h.probe ? decodeStoredProbe(h.probe) : null,
    progress: {
      framesExpected: num(h.framesExpected),
      // A video split into segments counts its progress per segment until every one is enqueued.
      framesProduced: Math.max(num(h.framesProduced) ?? 0, segmentsProduced(h)),
      framesTotal: num(h.framesTotal),
      framesDone: num(h.framesDone) ?? 0,
      framesFailed: num(h.framesFailed) ?? 0,
    },
    error: h.errorCode ? { code: h.errorCode, message: h.errorMessage ?? '' } : null,
    owner: h.owner ?? null,
    decodeErrors: decodeErrorsOf(h),
    webhooks: Object.values(hooks).map((json) => JSON.parse(json) as WebhookDelivery),
  };
}

/** Damage ffmpeg reported in a video: one count for the whole video, or one per segment (decodeErrors:N). */
export function decodeErrorsOf(record: Record<string, string>): number {
  return Object.entries(record).reduce(
    (sum, [field, value]) =>
      field === 'decodeErrors' || field.startsWith('decodeErrors:') ? sum + Number(value) : sum,
    0,
  );
}

/** Ids of videos submitted, oldest first (entries past retention may linger; getVideoStatus says null). */
export async function listVideoIds(pipeline: Pipeline, limit = 1000): Promise<string[]> {
  return pipeline.redis.zrange(pipeline.keys.videoIndex, String(-limit), '-1');
}

/** The stored per-video result (parsed JSON of src/results' VideoResult), or null when not (yet) there. */
export async function getVideoResult<T = unknown>(pipeline: Pipeline, videoId: string): Promise<T | null> {
  const json = await pipeline.redis.get(pipeline.keys.videoResult(videoId));
  return json === null ? null : (JSON.parse(json) as T);
}
