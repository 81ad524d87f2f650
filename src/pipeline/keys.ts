// Redis key layout of the pipeline, in one place. Everything lives under the configured prefix
// (FER_REDIS_PREFIX), so several deployments or test files can share one Redis.

export interface PipelineKeys {
  /** BullMQ's own prefix (queues live under it). */
  readonly bullPrefix: string;
  /** Hash: the video's record (state, path, options, probe, counts, errors, model). */
  video(videoId: string): string;
  /** Hash: frame index → FrameResult JSON (HSET by index, so a frame stored twice counts once). */
  videoFrames(videoId: string): string;
  /** String: the per-video result JSON, kept for the retention TTL. */
  videoResult(videoId: string): string;
  /** Hash: webhook target ("callback" / "configured") → delivery state JSON. */
  videoWebhooks(videoId: string): string;
  /** String: one binary value with the rgb24 bytes of a chunk of consecutive frames. */
  chunk(videoId: string, sequence: number): string;
  /** What every chunk key of a video starts with. */
  chunkPrefix(videoId: string): string;
  /** Hash: chunk key → "bytes:frames:reservedAtMs" for every chunk counted in the held totals. */
  readonly heldChunks: string;
  /** Counters: frame bytes and frames held in Redis, all producers together. */
  readonly heldBytes: string;
  readonly heldFrames: string;
  /** Sorted set: video ids by submission time (for listings). */
  readonly videoIndex: string;
  /** Sorted set: unfinished video ids by the time of their last progress (the recovery sweep finds stuck ones here). */
  readonly activeVideos: string;
  /** String: held by the process running the recovery sweep (one at a time across all processes). */
  readonly recoveryLock: string;
  /** Hash: video id → path of its uploaded file, until the API's sweep deletes the file (video finished). */
  readonly uploads: string;
}

export function pipelineKeys(prefix: string): PipelineKeys {
  return {
    bullPrefix: `${prefix}:bull`,
    video: (id) => `${prefix}:video:${id}`,
    videoFrames: (id) => `${prefix}:video:${id}:frames`,
    videoResult: (id) => `${prefix}:video:${id}:result`,
    videoWebhooks: (id) => `${prefix}:video:${id}:webhooks`,
    chunk: (id, sequence) => `${prefix}:chunk:${id}:${sequence}`,
    chunkPrefix: (id) => `${prefix}:chunk:${id}:`,
    heldChunks: `${prefix}:frames:held-chunks`,
    heldBytes: `${prefix}:frames:held-bytes`,
    heldFrames: `${prefix}:frames:held-frames`,
    videoIndex: `${prefix}:videos`,
    activeVideos: `${prefix}:videos:active`,
    recoveryLock: `${prefix}:recovery:lock`,
    uploads: `${prefix}:uploads`,
  };
}
