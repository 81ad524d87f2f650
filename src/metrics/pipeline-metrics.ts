import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// The pipeline's own metrics. Naming follows Prometheus conventions: `ferstream_` prefix, base
// units in the name (seconds, bytes), `_total` on counters, and no per-video or per-job labels
// (their cardinality grows without bound). Every metric is documented in docs/operations.md "Metrics".

/**
 * Histogram buckets, chosen for the latencies each one measures (docs/operations.md "Metrics" explains them):
 * - inference: one batched run, from ~2 ms (tiny CNN on a GPU) to tens of seconds (ViT-B/16 fp32,
 *   batch 32, on 2 CPU cores at ≈5 images/s).
 * - queue wait and frame latency: an idle pipeline answers in milliseconds; a backlog makes frames
 *   wait minutes, and the buckets must still tell 1 min from 10 min.
 * - video latency: a few seconds for a short clip, up to hours for long videos behind a backlog.
 * - batch size: powers of two around the configured maximum (default 8, up to 1024 allowed).
 * - fill: the batch size over the configured maximum, in eighths.
 */
export const BUCKETS = {
  inferenceSeconds: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  queueWaitSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  frameLatencySeconds: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
  videoLatencySeconds: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400],
  videoFrames: [1, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000],
  batchSize: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  batchFill: [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1],
} as const;

/** Values computed at scrape time: `ferstream_inference_busy_ratio` asks this for (stage, ratio) pairs. */
export interface BusyRatioSource {
  ratios(): Iterable<readonly [string, number]>;
}

/** Frames held in Redis, read when scraped (the frame store's global counters). */
export interface HeldFramesSource {
  read(): Promise<{ frames: number; bytes: number }>;
}

export function createPipelineMetricSet(registry: Registry) {
  const registers = [registry];
  const busySource: { current?: BusyRatioSource } = {};
  const heldSource: { current?: HeldFramesSource } = {};
  // One read serves both gauges of a scrape.
  let heldRead: { at: number; value: Promise<{ frames: number; bytes: number } | undefined> } | undefined;
  const readHeld = () => {
    const source = heldSource.current;
    if (source === undefined) return Promise.resolve(undefined);
    const now = Date.now();
    if (heldRead === undefined || now - heldRead.at > 250)
      heldRead = { at: now, value: source.read().catch(() => undefined) };
    return heldRead.value;
  };
  return {
    busySource,
    heldSource,
    framesProcessed: new Counter({
      name: 'ferstream_frames_processed_total',
      help: 'Frames whose analysis was stored (a frame retried after a failure counts once, when it succeeds).',
      registers,
    }),
    framesFailed: new Counter({
      name: 'ferstream_frames_failed_total',
      help: 'Frames that failed analysis, by reason code.',
      labelNames: ['reason'] as const,
      registers,
    }),
    webhookAttempts: new Counter({
      name: 'ferstream_webhook_attempts_total',
      help: "Webhook POSTs by target (callback: a submission's callbackUrl; configured: FER_WEBHOOK_URL) and outcome (delivered, retrying, failed = its last attempt).",
      labelNames: ['target', 'outcome'] as const,
      registers,
    }),
    facesDetected: new Counter({
      name: 'ferstream_faces_detected_total',
      help: 'Faces found in processed frames (in whole-frame mode every frame is one face).',
      registers,
    }),
    facesReused: new Counter({
      name: 'ferstream_faces_reused_total',
      help: "Faces of processed frames whose classification was an earlier frame's of the same face (FER_REUSE_MAX_FRAMES): classifications saved.",
      registers,
    }),
    videosSubmitted: new Counter({
      name: 'ferstream_videos_submitted_total',
      help: 'Videos accepted for analysis.',
      registers,
    }),
    videosCompleted: new Counter({
      name: 'ferstream_videos_completed_total',
      help: 'Videos whose per-video result was stored.',
      registers,
    }),
    videosFailed: new Counter({
      name: 'ferstream_videos_failed_total',
      help: 'Videos that failed as a whole, by reason code.',
      labelNames: ['reason'] as const,
      registers,
    }),
    inferenceDuration: new Histogram({
      name: 'ferstream_inference_duration_seconds',
      help: 'Duration of one batched inference run, by stage (detect, classify) and execution provider.',
      labelNames: ['stage', 'provider'] as const,
      buckets: [...BUCKETS.inferenceSeconds],
      registers,
    }),
    batchSize: new Histogram({
      name: 'ferstream_inference_batch_size',
      help: 'Images per batched inference run; its _count is the number of runs.',
      labelNames: ['stage', 'provider'] as const,
      buckets: [...BUCKETS.batchSize],
      registers,
    }),
    batchFill: new Histogram({
      name: 'ferstream_inference_batch_fill_ratio',
      help: 'Batch size over the configured maximum batch size (1 = full batches).',
      labelNames: ['stage', 'provider'] as const,
      buckets: [...BUCKETS.batchFill],
      registers,
    }),
    inferenceBusy: new Gauge({
      name: 'ferstream_inference_busy_ratio',
      help: 'Share of recent wall time (last 10 s) during which the stage had an inference run in flight, 0..1.',
      labelNames: ['stage'] as const,
      registers,
      collect() {
        for (const [stage, ratio] of busySource.current?.ratios() ?? []) this.labels(stage).set(ratio);
      },
    }),
    queueWait: new Histogram({
      name: 'ferstream_frame_queue_wait_seconds',
      help: 'Time a frame waited in the queue, from being enqueued to a worker starting on it.',
      buckets: [...BUCKETS.queueWaitSeconds],
      registers,
    }),
    frameLatency: new Histogram({
      name: 'ferstream_frame_latency_seconds',
      help: 'Frame end-to-end latency: from the producer enqueuing it to its result being stored.',
      buckets: [...BUCKETS.frameLatencySeconds],
      registers,
    }),
    videoLatency: new Histogram({
      name: 'ferstream_video_latency_seconds',
      help: 'Video end-to-end latency: from submission to the per-video result being stored.',
      buckets: [...BUCKETS.videoLatencySeconds],
      registers,
    }),
    videoFrames: new Histogram({
      name: 'ferstream_video_frames',
      help: 'Sampled frames per completed video.',
      buckets: [...BUCKETS.videoFrames],
      registers,
    }),
    heldFrames: new Gauge({
      name: 'ferstream_redis_held_frames',
      help: 'Frames producers have written to Redis that workers have not consumed yet (all producers together).',
      registers,
      async collect() {
        const held = await readHeld();
        if (held) this.set(held.frames);
      },
    }),
    heldFrameBytes: new Gauge({
      name: 'ferstream_redis_held_frame_bytes',
      help: 'Bytes of frame data held in Redis by all producers together (bounded by the frame budget).',
      registers,
      async collect() {
        const held = await readHeld();
        if (held) this.set(held.bytes);
      },
    }),
  };
}

export type PipelineMetricSet = ReturnType<typeof createPipelineMetricSet>;

const setsByRegistry = new WeakMap<Registry, PipelineMetricSet>();

/** The pipeline metrics of a registry, created on first use (a registry rejects a metric registered twice). */
export function pipelineMetrics(registry: Registry): PipelineMetricSet {
  let set = setsByRegistry.get(registry);
  if (set === undefined) {
    set = createPipelineMetricSet(registry);
    setsByRegistry.set(registry, set);
  }
  return set;
}
