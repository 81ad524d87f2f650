import type { InferenceStage, PipelineObserver } from '../core/observer.ts';
import type { Registry } from './registry.ts';
import { pipelineMetrics, type BusyRatioSource } from './pipeline-metrics.ts';

/** Window over which `ferstream_inference_busy_ratio` is computed from batch runs. */
export const BUSY_WINDOW_MS = 10_000;
/** Distinct reason codes kept as label values; more than this become `other` (bounded cardinality). */
export const MAX_REASON_CODES = 32;

const REASON_CODE = /^[a-z][a-z0-9_.-]{0,63}$/i;

/**
 * The Prometheus side of the pipeline: producer, worker and aggregator code report events through
 * the `PipelineObserver` hooks and this turns them into the metrics of `pipeline-metrics.ts`.
 * Hooks never throw (an observer must not break the pipeline).
 */
export function createMetricsObserver(registry: Registry, options: { now?: () => number } = {}): PipelineObserver {
  // One observer per registry: its metrics and busy windows are per process, not per caller.
  const existing = observersByRegistry.get(registry);
  if (existing !== undefined) return existing;
  const m = pipelineMetrics(registry);
  const now = options.now ?? (() => performance.now());
  const reasons = new ReasonLabels();
  const busy = new BusyWindows(now);
  // Series that exist from the start with value 0, so dashboards and alerts see "no failures"
  // rather than "no data".
  m.framesFailed.labels(OTHER).inc(0);
  m.videosFailed.labels(OTHER).inc(0);

  const safe =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch {
        // Bad values (NaN, negative) from a caller must not break the pipeline; nothing is recorded.
      }
    };

  const observer: PipelineObserver = {
    videoSubmitted: safe(() => m.videosSubmitted.inc()),
    videoCompleted: safe(({ durationMs, frames }) => {
      m.videosCompleted.inc();
      m.videoLatency.observe(seconds(durationMs));
      m.videoFrames.observe(frames);
    }),
    videoFailed: safe(({ reason }) => m.videosFailed.labels(reasons.label(reason)).inc()),
    frameProcessed: safe(({ faces, reusedFaces, queueWaitMs, endToEndMs }) => {
      m.framesProcessed.inc();
      if (faces > 0) m.facesDetected.inc(faces);
      if (reusedFaces) m.facesReused.inc(reusedFaces);
      m.queueWait.observe(seconds(queueWaitMs));
      m.frameLatency.observe(seconds(endToEndMs));
    }),
    frameFailed: safe(({ reason }) => m.framesFailed.labels(reasons.label(reason)).inc()),
    inferenceBatch: safe(({ stage, provider, batchSize, maxBatchSize, durationMs }) => {
      const labels = { stage, provider };
      m.inferenceDuration.observe(labels, seconds(durationMs));
      m.batchSize.observe(labels, batchSize);
      if (maxBatchSize > 0) m.batchFill.observe(labels, Math.min(1, batchSize / maxBatchSize));
      busy.record(stage, durationMs);
    }),
    framesHeld: safe(({ frames, bytes }) => {
      m.heldFrames.set(frames);
      m.heldFrameBytes.set(bytes);
    }),
    inferenceBusy: safe(({ stage, busyRatio }) => busy.report(stage, busyRatio)),
    webhookAttempt: safe(({ target, outcome }) => m.webhookAttempts.labels(target, outcome).inc()),
  };

  // At zero from the start, so that increase() sees a process's first failed delivery too.
  for (const target of ['callback', 'configured'])
    for (const outcome of ['delivered', 'retrying', 'failed']) m.webhookAttempts.labels(target, outcome).inc(0);
  // Computed when scraped, from the batch runs of the last window (or the host's own reports).
  m.busySource.current = busy;
  observersByRegistry.set(registry, observer);
  return observer;
}

/**
 * Creates a process's inference series at zero before its first batch (call once the model has
 * loaded and the provider is known). A labelled series that first appears with its final value
 * hides that increase from rate() and increase(): a worker that finishes a short video between
 * two scrapes would show no inference at all.
 */
export function declareInferenceStages(registry: Registry, stages: readonly InferenceStage[], provider: string): void {
  const m = pipelineMetrics(registry);
  for (const stage of stages) {
    const labels = { stage, provider };
    m.inferenceDuration.zero(labels);
    m.batchSize.zero(labels);
    m.batchFill.zero(labels);
  }
}

const OTHER = 'other';
const observersByRegistry = new WeakMap<Registry, PipelineObserver>();

function seconds(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`duration must be a finite number ≥ 0 ms, got ${ms}`);
  return ms / 1000;
}

/** Reason strings become label values only when they look like codes, and only so many of them. */
class ReasonLabels {
  private readonly seen = new Set<string>();

  label(reason: string): string {
    if (!REASON_CODE.test(reason)) return OTHER;
    const code = reason.toLowerCase();
    if (this.seen.has(code)) return code;
    if (this.seen.size >= MAX_REASON_CODES) return OTHER;
    this.seen.add(code);
    return code;
  }
}

/**
 * Busy share per stage: the union of the intervals during which a batch was running (a batch
 * reported at time t with duration d ran over [t − d, t]), over the last BUSY_WINDOW_MS. With
 * several session threads this is "at least one thread busy". An explicit report from the
 * inference host (`inferenceBusy`, which knows every thread's busy time) replaces the derived value
 * for that stage while it is recent; reports stop when batches stop, so after a window without
 * one the derived value (decaying to 0) applies again.
 */
class BusyWindows implements BusyRatioSource {
  private readonly intervals = new Map<InferenceStage, Array<[number, number]>>();
  private readonly reported = new Map<InferenceStage, { ratio: number; at: number }>();

  constructor(private readonly now: () => number) {}

  /**
   * Keeps each stage's busy intervals disjoint and sorted, merging on insert: a batch is reported
   * when it ends, so its end is the latest yet and it can only overlap intervals at the tail.
   * The list stays as short as the number of separate busy periods in the window, and a scrape
   * just sums it (a list of every batch, sorted per scrape, cost ~100 ms at 10k batches/s).
   */
  record(stage: InferenceStage, durationMs: number): void {
    const end = this.now();
    let start = end - durationMs;
    const list = this.intervals.get(stage) ?? [];
    while (list.length > 0 && list[list.length - 1]![1] >= start) start = Math.min(start, list.pop()![0]);
    list.push([start, end]);
    this.prune(list, end);
    this.intervals.set(stage, list);
  }

  report(stage: InferenceStage, ratio: number): void {
    if (!Number.isFinite(ratio)) throw new RangeError(`busy ratio must be finite, got ${ratio}`);
    this.reported.set(stage, { ratio: Math.min(1, Math.max(0, ratio)), at: this.now() });
  }

  *ratios(): Iterable<[InferenceStage, number]> {
    const end = this.now();
    const start = end - BUSY_WINDOW_MS;
    const fresh = new Map<InferenceStage, number>();
    for (const [stage, report] of this.reported) if (end - report.at <= BUSY_WINDOW_MS) fresh.set(stage, report.ratio);
    for (const [stage, list] of this.intervals) {
      if (fresh.has(stage)) continue;
      this.prune(list, end);
      let busy = 0;
      for (const [s, e] of list) busy += Math.max(0, Math.min(e, end) - Math.max(s, start));
      yield [stage, Math.min(1, busy / BUSY_WINDOW_MS)];
    }
    yield* fresh;
    // A stage known only from reports that went stale: idle.
    for (const stage of this.reported.keys()) if (!fresh.has(stage) && !this.intervals.has(stage)) yield [stage, 0];
  }

  private prune(list: Array<[number, number]>, end: number): void {
    const start = end - BUSY_WINDOW_MS;
    let drop = 0;
    while (drop < list.length && list[drop]![1] <= start) drop++;
    if (drop > 0) list.splice(0, drop);
  }
}
