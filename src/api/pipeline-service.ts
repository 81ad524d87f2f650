import { FerError } from '../core/errors.ts';
import { rm } from 'node:fs/promises';
import {
  CANCELLED_CODE,
  cancelVideo,
  missingServiceWarnings,
  servicesSeen,
  deleteVideo,
  getVideoResult,
  getVideoStatus,
  isRedisFull,
  isRedisUnavailable,
  listVideos,
  submitVideo,
  type Pipeline,
  type VideoStatus as PipelineVideoStatus,
} from '../pipeline/index.ts';
import type { VideoResult } from '../results/types.ts';
import { ApiError } from './errors.ts';
import { recordUpload } from './uploads.ts';
import { IDEMPOTENCY_TTL_SECONDS } from './idempotency.ts';
import type {
  Caller,
  IdempotencyClaim,
  IdempotencyStore,
  ListQuery,
  SubmitRequest,
  VideoService,
  VideoState,
  VideoStatus,
} from './service.ts';

// VideoService over the pipeline's Redis records (src/pipeline): what `fer-stream api` and the
// `submit` / `status` / `results` commands use. Every Redis call is bounded: when Redis is down
// or slower than `redisTimeoutMs` the request fails with 503 `unavailable` — and a submission
// answered so is never run later (submitVideo's acceptance deadline).

const READY_TIMEOUT_MS = 1000;

/** The roles an open video still needs, by state. */
const WAITS_FOR: Partial<Record<PipelineVideoStatus['state'], ReadonlyArray<'producer' | 'worker'>>> = {
  queued: ['producer', 'worker'],
  probing: ['producer', 'worker'],
  producing: ['producer', 'worker'],
  processing: ['worker'],
};

export interface PipelineServiceOptions {
  readonly closePipeline?: boolean;
  /** Longest wait for Redis per call before `unavailable` (FER_API_REDIS_TIMEOUT_MS); absent: no bound (CLI). */
  readonly redisTimeoutMs?: number;
}

export function createPipelineVideoService(pipeline: Pipeline, options: PipelineServiceOptions = {}): VideoService {
  const bounded = <T>(work: (signal: AbortSignal) => Promise<T>) => withRedisDeadline(work, options.redisTimeoutMs);
  const owned = async (id: string, caller: Caller) => {
    const status = await bounded(() => getVideoStatus(pipeline, id));
    if (status === null) return null;
    // Another token's video (or one submitted without a token) does not exist for this caller.
    if (caller !== undefined && status.owner !== caller) return null;
    return status;
  };
  return {
    idempotency: redisIdempotencyStore(pipeline, bounded),
    async submit(request: SubmitRequest) {
      try {
        // Confirmed by Redis early enough for its answer to reach us before we give up (a margin
        // for the reply's way back), or deleted: what we answer 503 for never runs.
        const timeout = options.redisTimeoutMs;
        const acceptBy = timeout === undefined ? undefined : Date.now() + Math.max(timeout / 2, timeout - 500);
        const { videoId } = await bounded((signal) =>
          submitVideo(pipeline, {
            path: request.path,
            ...(request.originalName !== undefined ? { name: request.originalName } : {}),
            ...(request.owner !== undefined ? { owner: request.owner } : {}),
            ...(request.callbackUrl !== undefined ? { callbackUrl: request.callbackUrl } : {}),
            ...(acceptBy !== undefined ? { acceptBy, signal } : {}),
            options: request.options,
          }),
        );
        if (request.uploaded) await bounded(() => recordUpload(pipeline, videoId, request.path));
        return { id: videoId };
      } catch (error) {
        // The pipeline's own checks of the options (limits from its configuration) are the client's mistake.
        if (error instanceof FerError && error.code === 'invalid_option')
          throw new ApiError('invalid_request', error.message, { cause: error });
        if (error instanceof FerError && error.code === 'redis_timeout')
          throw new ApiError('unavailable', `${error.message}; try again`, { cause: error });
        throw error;
      }
    },
    async status(id: string, caller?: Caller) {
      const status = await owned(id, caller);
      if (status === null) return null;
      const api = toApiStatus(status);
      // Open: say so when nothing runs that would move it on (a queued video otherwise just waits).
      const needs = WAITS_FOR[status.state];
      if (needs === undefined) return api;
      const within = pipeline.config.serviceSeenSeconds;
      const warnings = missingServiceWarnings(await bounded(() => servicesSeen(pipeline, within)), within, needs);
      return warnings.length > 0 ? { ...api, warnings } : api;
    },
    async services() {
      const within = pipeline.config.serviceSeenSeconds;
      const seen = await bounded(() => servicesSeen(pipeline, within));
      return {
        workers: seen.worker,
        producers: seen.producer,
        warnings: missingServiceWarnings(seen, within, ['producer', 'worker']),
      };
    },
    async results(id: string, caller?: Caller) {
      if ((await owned(id, caller)) === null) return null;
      return bounded(() => getVideoResult<VideoResult>(pipeline, id));
    },
    async sourcePath(id: string, caller?: Caller) {
      return (await owned(id, caller))?.path ?? null;
    },
    async list(query: ListQuery, caller?: Caller) {
      const { state, ...rest } = query;
      const matches = state === undefined ? undefined : (status: PipelineVideoStatus) => apiState(status) === state;
      const page = await bounded(() =>
        listVideos(pipeline, {
          ...rest,
          ...(matches ? { matches } : {}),
          ...(caller !== undefined ? { owner: caller } : {}),
        }),
      );
      return { videos: page.videos.map(toApiStatus), next: page.next };
    },
    async delete(id: string, caller?: Caller) {
      if ((await owned(id, caller)) === null) return null;
      const outcome = await bounded(() => deleteVideo(pipeline, id));
      if (outcome === null) return null;
      if (outcome.uploadedFile !== null) await rm(outcome.uploadedFile, { force: true });
      return { cancelled: outcome.state !== 'completed' && outcome.state !== 'failed' };
    },
    async cancel(id: string, caller?: Caller) {
      if ((await owned(id, caller)) === null) return null;
      return bounded(() => cancelVideo(pipeline, id));
    },
    async ready() {
      // With maxRetriesPerRequest null a command waits for Redis forever: answer from the
      // connection state, and bound the PING.
      if (pipeline.redis.status !== 'ready') return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      });
      try {
        return await Promise.race([pipeline.redis.ping().then((r) => r === 'PONG'), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (options.closePipeline) await pipeline.close();
    },
  };
}

/** Idempotency-Key entries in Redis: "fingerprint|" while the first request submits, "fingerprint|videoId" after. */
function redisIdempotencyStore(
  pipeline: Pipeline,
  bounded: <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>,
): IdempotencyStore {
  const key = (scope: string) => `${pipeline.keys.idempotencyPrefix}${scope}`;
  return {
    async claim(scope: string, fingerprint: string): Promise<IdempotencyClaim> {
      if (
        (await bounded(() =>
          pipeline.redis.set(key(scope), `${fingerprint}|`, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX'),
        )) === 'OK'
      )
        return { state: 'new' };
      const stored = await bounded(() => pipeline.redis.get(key(scope)));
      // Expired (or released) between the two calls: claim it again.
      if (stored === null) return this.claim(scope, fingerprint);
      const [storedPrint, id] = stored.split('|');
      if (storedPrint !== fingerprint) return { state: 'conflict' };
      return id ? { state: 'replay', id } : { state: 'in_progress' };
    },
    async complete(scope: string, fingerprint: string, id: string) {
      await bounded(() => pipeline.redis.set(key(scope), `${fingerprint}|${id}`, 'EX', IDEMPOTENCY_TTL_SECONDS));
    },
    async release(scope: string) {
      await bounded(() => pipeline.redis.del(key(scope)));
    },
  };
}

/**
 * Runs a Redis call with a deadline: Redis unreachable (the API's connection fails commands at
 * once while it is down) or slower than `ms` → ApiError `unavailable` (503).
 */
export async function withRedisDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number | undefined,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const abandon = new AbortController();
  const deadline =
    ms === undefined
      ? new Promise<never>(() => undefined)
      : new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abandon.abort();
            reject(new ApiError('unavailable', `Redis did not answer within ${ms} ms; try again`));
          }, ms);
        });
  const running = work(abandon.signal);
  // Settles after we gave up: nobody awaits it any more.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, deadline]);
  } catch (error) {
    if (isRedisUnavailable(error))
      throw new ApiError('unavailable', 'Redis is not reachable; try again', { cause: error });
    // maxmemory reached (noeviction, as BullMQ needs): writes are refused until workers drain it or
    // results expire. The service's fault, not the request's; a submission so refused was not queued.
    if (isRedisFull(error))
      throw new ApiError(
        'unavailable',
        'Redis is out of memory (its maxmemory is reached): the request had no effect; try again later',
        { cause: error },
      );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The API's state: a video failed with the code `cancelled` was cancelled on request. */
function apiState(status: PipelineVideoStatus): VideoState {
  return status.state === 'failed' && status.error?.code === CANCELLED_CODE ? 'cancelled' : status.state;
}

export function toApiStatus(status: PipelineVideoStatus): VideoStatus {
  const { framesExpected, framesTotal, framesDone, framesFailed } = status.progress;
  const denominator = framesTotal ?? framesExpected;
  return {
    id: status.videoId,
    state: apiState(status),
    name: status.name,
    progress: {
      framesExpected,
      framesTotal,
      framesDone,
      framesFailed,
      fraction: denominator === null ? null : denominator === 0 ? 1 : Math.min(1, framesDone / denominator),
    },
    errors: status.error === null ? [] : [status.error],
    submittedAt: status.submittedAt,
    ...(status.startedAt !== null ? { startedAt: status.startedAt } : {}),
    ...(status.completedAt !== null ? { completedAt: status.completedAt } : {}),
    ...(status.webhooks.length > 0 ? { webhooks: status.webhooks } : {}),
  };
}
