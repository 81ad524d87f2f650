import { z } from 'zod';
import { envList, int, num, envBoolean } from './env.ts';

/** ffmpeg's hwaccel names FER_DECODE_HWACCEL takes besides auto and none. */
export const HWACCEL_METHODS = [
  'cuda',
  'vaapi',
  'qsv',
  'vdpau',
  'videotoolbox',
  'd3d11va',
  'dxva2',
  'drm',
  'opencl',
  'vulkan',
] as const;

/**
 * Producer sampling and limits, frame transport through Redis, queues, retries and retention.
 * Documented in docs/configuration.md (rows FER_FPS … FER_FINALIZE_CONCURRENCY).
 */
/** Demuxers of real video containers (ffmpeg names; `mov` covers mp4/m4v/3gp, `matroska` webm). */
export const DEFAULT_ALLOWED_CONTAINERS: readonly string[] = [
  'mov',
  'matroska',
  'avi',
  'flv',
  'mpegts',
  'mpeg',
  'ogg',
  'asf',
  'm4v',
  'h264',
  'hevc',
];

export const pipelineSchema = z.object({
  /** Frames sampled per second of video (ffmpeg fps filter). */
  fps: num(0.001, 240).default(2),
  /** Working resolution: frames are scaled (aspect kept, never upscaled) so their long side is at most this. */
  frameMaxSide: int(16, 8192).default(640),
  /**
   * ffmpeg decoder threads per video (0 = ffmpeg decides). One thread is the cheapest per frame
   * (measured: about a third less CPU than auto on 224×224 mpeg4); videos run in parallel anyway.
   */
  decodeThreads: int(0, 64).default(1),
  /**
   * Hardware decoding (src/producer/hwaccel.ts): `auto` uses the GPU's decoder where ffmpeg has the
   * method and the device is present (cuda, then vaapi), `none` decodes in software, or an ffmpeg
   * hwaccel name. A method that cannot decode a codec falls back to software, said once.
   */
  decodeHwaccel: z.enum(['auto', 'none', ...HWACCEL_METHODS]).default('auto'),
  /**
   * A video whose sampling spans longer than this is split at keyframes into segments of about
   * this length, each its own producer job, so several producers decode one long video side by
   * side (src/producer/segments.ts); 0 keeps every video in one piece.
   */
  segmentSeconds: num(0, 86_400).default(60),
  /**
   * Samples at least this many seconds apart (fps ≤ 1 / this) are each decoded by seeking to them
   * from the keyframe before instead of decoding every frame of the video: the same frames, byte for
   * byte, at 0.3–0.8× the CPU at 1080p (src/producer/seek-decoding.ts); 0 always decodes every frame.
   */
  decodeSeekSeconds: num(0, 86_400).default(5),
  /** Frames per Redis value and per frame job (measured: 32 moves bytes fastest, see BENCHMARKS.md). */
  chunkFrames: int(1, 4096).default(32),
  /**
   * Frames in a video's first chunk: its first frames reach a worker once this many are decoded
   * (a worker's batch, FER_MAX_BATCH_SIZE, by default) instead of a whole chunk's worth.
   */
  firstChunkFrames: int(1, 4096).default(8),
  /** Frame bytes all producers together may hold in Redis; producers pause at this budget. */
  redisFrameBudgetBytes: int(1).default(256 * 1024 * 1024),
  /**
   * Redis Cluster only: the frame chunks are spread over this many hash tags (evenly spaced slots,
   * so every master of an evenly split cluster holds some), the budget split evenly between them.
   * More shards than masters keeps the spread even after a resharding.
   */
  redisChunkShards: int(1, 1024).default(16),
  /** Lifetime of a frame chunk in Redis should no worker take it (s). */
  chunkTtlSeconds: int(1).default(3600),
  /** How long finished results (and failed videos' records) stay in Redis (s). */
  resultTtlSeconds: int(1).default(7 * 24 * 3600),
  /**
   * Graceful stop of a worker or producer: jobs in flight get this long after SIGTERM, then it stops at once (they are
   * picked up again elsewhere).
   */
  stopTimeoutMs: int(1000, 3_600_000).default(30_000),
  /** Also notified of every video's end (besides a submission's callbackUrl): an operator's endpoint. */
  webhookUrl: z
    .string()
    .url()
    .regex(/^https?:\/\//i, 'an http(s) URL')
    .optional(),
  /** Key of the HMAC-SHA256 signature on every webhook (header x-fer-signature); unset: events go unsigned. */
  webhookSecret: z.string().min(16, 'at least 16 characters').optional(),
  /** Deliveries tried per event and endpoint (exponential backoff from webhookBackoffMs). */
  webhookAttempts: int(1, 50).default(6),
  webhookBackoffMs: int(10, 3_600_000).default(2000),
  /** One attempt gives up after this long. */
  webhookTimeoutMs: int(100, 120_000).default(10_000),
  /** Let a submission's callbackUrl reach loopback and private addresses (off: no request forgery into the cluster). */
  webhookAllowPrivate: envBoolean.default(false),
  /**
   * Forward proxy the webhooks go through (http://[user:pass@]host:port), where egress must use one:
   * http targets in absolute form, https ones through a CONNECT tunnel. Unset: direct.
   */
  webhookProxy: z
    .string()
    .url()
    .regex(/^http:\/\//i, 'an http:// proxy URL')
    .optional(),
  /** Host names (with their subdomains; `*` = all) the webhooks reach directly despite the proxy. */
  webhookNoProxy: envList(z.string().min(1)).default([]),
  /**
   * Frame jobs (chunks) one worker process works on at once; their frames together fill inference
   * batches. Each one taken is work no other worker can take: two keep the next chunk ready without
   * hoarding (bench:scaling, fp32, 4 videos: two workers 1.82–1.88× one at 2, 1.60–1.63× at 4).
   */
  workerConcurrency: int(1, 1024).default(2),
  /** Videos one producer process splits at once. */
  producerConcurrency: int(1, 64).default(2),
  /** Finalisation (aggregation) jobs one worker process runs at once. */
  finalizeConcurrency: int(1, 64).default(2),
  /** Attempts per frame job before its frames are recorded as failed. */
  frameAttempts: int(1, 100).default(3),
  /** First retry delay (exponential backoff), ms. */
  retryBackoffMs: int(0, 3_600_000).default(1000),
  /** Longest video accepted (s). */
  maxDurationSeconds: num(0.001).default(4 * 3600),
  /** Largest video file accepted (bytes). */
  maxFileBytes: int(1).default(10 * 1024 * 1024 * 1024),
  /** Largest frame (width × height, before scaling) accepted. */
  maxSourcePixels: int(1).default(8192 * 8192),
  /** Most frames sampled per video (0 = no limit beyond duration × fps). */
  maxFrames: int(0).default(0),

  // Fault handling (docs/operations.md "Failure modes"). With these defaults a killed worker's jobs run again
  // within lockDuration + stalledInterval = 15 s: its locks lapse after at most 10 s (renewed every
  // 5 s) and every live worker looks for lapsed locks every 5 s.
  /** Lock on a job in progress, renewed at half this period while its process lives (ms). */
  lockDurationMs: int(1000, 3_600_000).default(10_000),
  /** How often each worker/producer looks for jobs whose lock lapsed (their process died), ms. */
  stalledIntervalMs: int(500, 3_600_000).default(5_000),
  /** Times a job may be found stalled and restarted; one more and it fails (its frames recorded as failed). */
  maxStalledCount: int(0, 100).default(2),
  /** A Redis outage shorter than this fails nothing: chunk reads and writes are retried across reconnects (ms). */
  redisOutageDeadlineMs: int(0, 3_600_000).default(60_000),
  /** A frame-budget reservation whose chunk was never written is given back after this long (s). */
  frameLeaseSeconds: int(1, 86_400).default(30),
  /** How often the recovery sweep runs in each worker and producer (failed jobs, budget leases, stuck videos), ms. */
  recoveryIntervalMs: int(100, 3_600_000).default(5_000),
  /**
   * A video without progress for this long is resolved by the sweep: requeued or its lost frames recorded as failed
   * (s).
   */
  videoStallSeconds: int(1, 7 * 86_400).default(300),
  /**
   * A producer or worker counts as running when its heartbeat (every 5 s, in Redis) is younger
   * than this (s); with none of a role, the API, `status`, /readyz and ferstream_services_seen say so.
   */
  serviceSeenSeconds: int(6, 86_400).default(30),
  /** Times the sweep requeues a stuck video before failing it. */
  videoRequeues: int(0, 100).default(2),

  // Hostile input (docs/operations.md "Failure modes", SECURITY.md).
  /** ffprobe's time limit per file (ms). */
  probeTimeoutMs: int(100, 3_600_000).default(30_000),
  /** ffmpeg is killed when it delivers no frame data for this long while the producer waits for it (ms). */
  decodeIdleTimeoutMs: int(100, 3_600_000).default(60_000),
  /**
   * Demuxers ffmpeg/ffprobe may use (ffmpeg's format_whitelist): real video containers only, so
   * playlists (hls), concat scripts, image sequences and devices are refused whatever the file's name.
   */
  allowedContainers: envList(z.string().regex(/^[a-z0-9_]+$/)).default([...DEFAULT_ALLOWED_CONTAINERS]),
});

export type PipelineConfig = z.infer<typeof pipelineSchema>;

export const pipelineEnv = {
  fps: 'FER_FPS',
  frameMaxSide: 'FER_FRAME_MAX_SIDE',
  decodeThreads: 'FER_DECODE_THREADS',
  decodeHwaccel: 'FER_DECODE_HWACCEL',
  segmentSeconds: 'FER_SEGMENT_SECONDS',
  decodeSeekSeconds: 'FER_DECODE_SEEK_SECONDS',
  chunkFrames: 'FER_CHUNK_FRAMES',
  firstChunkFrames: 'FER_FIRST_CHUNK_FRAMES',
  redisFrameBudgetBytes: 'FER_REDIS_FRAME_BUDGET_BYTES',
  redisChunkShards: 'FER_REDIS_CHUNK_SHARDS',
  chunkTtlSeconds: 'FER_CHUNK_TTL_SECONDS',
  resultTtlSeconds: 'FER_RESULT_TTL_SECONDS',
  stopTimeoutMs: 'FER_STOP_TIMEOUT_MS',
  webhookUrl: 'FER_WEBHOOK_URL',
  webhookSecret: 'FER_WEBHOOK_SECRET',
  webhookAttempts: 'FER_WEBHOOK_ATTEMPTS',
  webhookBackoffMs: 'FER_WEBHOOK_BACKOFF_MS',
  webhookTimeoutMs: 'FER_WEBHOOK_TIMEOUT_MS',
  webhookAllowPrivate: 'FER_WEBHOOK_ALLOW_PRIVATE',
  webhookProxy: 'FER_WEBHOOK_PROXY',
  webhookNoProxy: 'FER_WEBHOOK_NO_PROXY',
  workerConcurrency: 'FER_WORKER_CONCURRENCY',
  producerConcurrency: 'FER_PRODUCER_CONCURRENCY',
  finalizeConcurrency: 'FER_FINALIZE_CONCURRENCY',
  frameAttempts: 'FER_FRAME_ATTEMPTS',
  retryBackoffMs: 'FER_RETRY_BACKOFF_MS',
  maxDurationSeconds: 'FER_MAX_DURATION_SECONDS',
  maxFileBytes: 'FER_MAX_FILE_BYTES',
  maxSourcePixels: 'FER_MAX_SOURCE_PIXELS',
  maxFrames: 'FER_MAX_FRAMES',
  lockDurationMs: 'FER_LOCK_DURATION_MS',
  stalledIntervalMs: 'FER_STALLED_INTERVAL_MS',
  maxStalledCount: 'FER_MAX_STALLED_COUNT',
  redisOutageDeadlineMs: 'FER_REDIS_OUTAGE_DEADLINE_MS',
  frameLeaseSeconds: 'FER_FRAME_LEASE_SECONDS',
  recoveryIntervalMs: 'FER_RECOVERY_INTERVAL_MS',
  videoStallSeconds: 'FER_VIDEO_STALL_SECONDS',
  videoRequeues: 'FER_VIDEO_REQUEUES',
  serviceSeenSeconds: 'FER_SERVICE_SEEN_SECONDS',
  probeTimeoutMs: 'FER_PROBE_TIMEOUT_MS',
  decodeIdleTimeoutMs: 'FER_DECODE_IDLE_TIMEOUT_MS',
  allowedContainers: 'FER_ALLOWED_CONTAINERS',
} as const;
