import { describe, expect, it } from 'vitest';
import { combineObservers } from '../../src/core/observer.ts';
import { setBuildInfo } from '../../src/metrics/build-info.ts';
import {
  BUSY_WINDOW_MS,
  createMetricsObserver,
  declareInferenceStages,
  MAX_REASON_CODES,
} from '../../src/metrics/observer.ts';
import { createMetricsRegistry, type Registry } from '../../src/metrics/registry.ts';

/** The value of one sample of the registry, by metric name (with suffix) and exact labels. */
async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const json = await registry.getMetricsAsJSON();
  for (const metric of json) {
    for (const value of (
      metric as unknown as {
        values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
      }
    ).values) {
      const metricName = value.metricName ?? metric.name;
      if (metricName !== name) continue;
      const actual = Object.fromEntries(Object.entries(value.labels).map(([k, v]) => [k, String(v)]));
      if (JSON.stringify(Object.entries(actual).sort()) === JSON.stringify(Object.entries(labels).sort()))
        return value.value;
    }
  }
  return undefined;
}

describe('metrics observer', () => {
  it('counts frames, faces and videos, and records latencies in seconds', async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    observer.videoSubmitted!();
    observer.videoSubmitted!();
    observer.frameProcessed!({ faces: 2, reusedFaces: 1, queueWaitMs: 30, endToEndMs: 120 });
    observer.frameProcessed!({ faces: 0, queueWaitMs: 7_000, endToEndMs: 9_000 });
    observer.frameFailed!({ reason: 'decode_error' });
    observer.videoCompleted!({ durationMs: 4_000, frames: 2 });
    observer.videoFailed!({ reason: 'probe_failed' });

    expect(await sample(registry, 'ferstream_videos_submitted_total')).toBe(2);
    expect(await sample(registry, 'ferstream_videos_completed_total')).toBe(1);
    expect(await sample(registry, 'ferstream_videos_failed_total', { reason: 'probe_failed' })).toBe(1);
    expect(await sample(registry, 'ferstream_frames_processed_total')).toBe(2);
    expect(await sample(registry, 'ferstream_frames_failed_total', { reason: 'decode_error' })).toBe(1);
    expect(await sample(registry, 'ferstream_faces_detected_total')).toBe(2);
    expect(await sample(registry, 'ferstream_faces_reused_total')).toBe(1);
    expect(await sample(registry, 'ferstream_frame_queue_wait_seconds_sum')).toBeCloseTo(7.03, 6);
    expect(await sample(registry, 'ferstream_frame_queue_wait_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(await sample(registry, 'ferstream_frame_queue_wait_seconds_bucket', { le: '10' })).toBe(2);
    expect(await sample(registry, 'ferstream_frame_latency_seconds_count')).toBe(2);
    expect(await sample(registry, 'ferstream_video_latency_seconds_sum')).toBe(4);
    expect(await sample(registry, 'ferstream_video_frames_sum')).toBe(2);
  });

  it('records batches per stage and provider: size histogram count = runs, fill = size / max', async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    observer.inferenceBatch!({ stage: 'classify', provider: 'cpu', batchSize: 8, maxBatchSize: 8, durationMs: 400 });
    observer.inferenceBatch!({ stage: 'classify', provider: 'cpu', batchSize: 2, maxBatchSize: 8, durationMs: 100 });
    observer.inferenceBatch!({ stage: 'detect', provider: 'cuda', batchSize: 1, maxBatchSize: 4, durationMs: 3 });
    const classify = { stage: 'classify', provider: 'cpu' };
    expect(await sample(registry, 'ferstream_inference_batch_size_count', classify)).toBe(2);
    expect(await sample(registry, 'ferstream_inference_batch_size_sum', classify)).toBe(10);
    expect(await sample(registry, 'ferstream_inference_batch_fill_ratio_bucket', { ...classify, le: '0.25' })).toBe(1);
    expect(await sample(registry, 'ferstream_inference_batch_fill_ratio_bucket', { ...classify, le: '1' })).toBe(2);
    expect(await sample(registry, 'ferstream_inference_duration_seconds_sum', classify)).toBeCloseTo(0.5, 9);
    expect(
      await sample(registry, 'ferstream_inference_duration_seconds_count', { stage: 'detect', provider: 'cuda' }),
    ).toBe(1);
  });

  it('can create the inference series at zero before the first batch, so rate() sees the first one', async () => {
    const registry = createMetricsRegistry();
    createMetricsObserver(registry);
    declareInferenceStages(registry, ['detect', 'classify'], 'cuda');
    for (const stage of ['detect', 'classify']) {
      const labels = { stage, provider: 'cuda' };
      expect(await sample(registry, 'ferstream_inference_batch_size_count', labels)).toBe(0);
      expect(await sample(registry, 'ferstream_inference_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(0);
      expect(await sample(registry, 'ferstream_inference_batch_fill_ratio_sum', labels)).toBe(0);
    }
  });

  it('derives the busy ratio from batch runs over a sliding window, overlapping runs counted once', async () => {
    let now = 100_000;
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry, { now: () => now });
    // Two runs over [98000, 100000] and [99000, 100000] (overlapping), one over [100500, 101000].
    observer.inferenceBatch!({ stage: 'classify', provider: 'cpu', batchSize: 1, maxBatchSize: 8, durationMs: 2_000 });
    observer.inferenceBatch!({ stage: 'classify', provider: 'cpu', batchSize: 1, maxBatchSize: 8, durationMs: 1_000 });
    now = 101_000;
    observer.inferenceBatch!({ stage: 'classify', provider: 'cpu', batchSize: 1, maxBatchSize: 8, durationMs: 500 });
    expect(await sample(registry, 'ferstream_inference_busy_ratio', { stage: 'classify' })).toBeCloseTo(
      2_500 / BUSY_WINDOW_MS,
      9,
    );
    // Later, the first runs fall out of the window.
    now = 100_000 + BUSY_WINDOW_MS + 200;
    expect(await sample(registry, 'ferstream_inference_busy_ratio', { stage: 'classify' })).toBeCloseTo(
      500 / BUSY_WINDOW_MS,
      9,
    );
    now += BUSY_WINDOW_MS;
    expect(await sample(registry, 'ferstream_inference_busy_ratio', { stage: 'classify' })).toBe(0);
    // A run reported later that started earlier (another session thread) swallows the previous one.
    observer.inferenceBatch!({ stage: 'detect', provider: 'cpu', batchSize: 1, maxBatchSize: 8, durationMs: 1_000 });
    observer.inferenceBatch!({ stage: 'detect', provider: 'cpu', batchSize: 1, maxBatchSize: 8, durationMs: 3_000 });
    expect(await sample(registry, 'ferstream_inference_busy_ratio', { stage: 'detect' })).toBeCloseTo(
      3_000 / BUSY_WINDOW_MS,
      9,
    );
    // An explicit report from the inference host wins over the derived value.
    observer.inferenceBusy!({ stage: 'classify', busyRatio: 0.75 });
    expect(await sample(registry, 'ferstream_inference_busy_ratio', { stage: 'classify' })).toBe(0.75);
    // …while it is recent: reports stop when batches stop, and a stale one must not stay up.
    now += BUSY_WINDOW_MS + 1;
    expect(await sample(registry, 'ferstream_inference_busy_ratio', { stage: 'classify' })).toBe(0);
  });

  it('reports frames held in Redis as absolute values', async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    observer.framesHeld!({ frames: 64, bytes: 64 * 150_528 });
    observer.framesHeld!({ frames: 32, bytes: 32 * 150_528 });
    expect(await sample(registry, 'ferstream_redis_held_frames')).toBe(32);
    expect(await sample(registry, 'ferstream_redis_held_frame_bytes')).toBe(32 * 150_528);
  });

  it('keeps failure reasons bounded: free text and codes beyond the limit become "other"', async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    expect(await sample(registry, 'ferstream_frames_failed_total', { reason: 'other' })).toBe(0);
    observer.frameFailed!({ reason: 'ffmpeg exited with code 1: Invalid data found when processing input' });
    for (let i = 0; i < MAX_REASON_CODES + 5; i++) observer.frameFailed!({ reason: `code_${i}` });
    expect(await sample(registry, 'ferstream_frames_failed_total', { reason: 'other' })).toBe(6);
    expect(await sample(registry, 'ferstream_frames_failed_total', { reason: 'code_0' })).toBe(1);
    const reasons = (await registry.getSingleMetric('ferstream_frames_failed_total')!.get()).values.map(
      (v) => v.labels.reason,
    );
    expect(new Set(reasons).size).toBe(MAX_REASON_CODES + 1);
  });

  it('never throws on bad values, and records nothing for them', async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    expect(() => observer.frameProcessed!({ faces: 1, queueWaitMs: Number.NaN, endToEndMs: 5 })).not.toThrow();
    expect(() => observer.videoCompleted!({ durationMs: -1, frames: 3 })).not.toThrow();
    expect(() => observer.inferenceBusy!({ stage: 'detect', busyRatio: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(await sample(registry, 'ferstream_frame_queue_wait_seconds_count')).toBe(0);
    expect(await sample(registry, 'ferstream_video_latency_seconds_count')).toBe(0);
  });

  it('is one observer per registry, and fans out with combineObservers', async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    expect(createMetricsObserver(registry)).toBe(observer);
    const seen: number[] = [];
    const both = combineObservers(observer, { frameProcessed: (e) => seen.push(e.faces) });
    both.frameProcessed!({ faces: 3, queueWaitMs: 1, endToEndMs: 2 });
    expect(seen).toEqual([3]);
    expect(await sample(registry, 'ferstream_faces_detected_total')).toBe(3);
  });

  it('exposes default Node metrics (event-loop lag) and ferstream_build_info', async () => {
    const registry = createMetricsRegistry();
    setBuildInfo(registry, { role: 'worker' });
    setBuildInfo(registry, { role: 'worker', model: 'vit-tiny', provider: 'cpu' });
    const text = await registry.metrics();
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    const info = (await registry.getSingleMetric('ferstream_build_info')!.get()).values;
    expect(info).toHaveLength(1);
    expect(info[0]!.labels).toMatchObject({
      role: 'worker',
      model: 'vit-tiny',
      provider: 'cpu',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(info[0]!.value).toBe(1);
  });

  it('names every ferstream metric by convention: prefix, base units, _total only on counters', async () => {
    const registry = createMetricsRegistry();
    createMetricsObserver(registry);
    setBuildInfo(registry, { role: 'api' });
    const metrics = (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('ferstream_'));
    expect(metrics.length).toBeGreaterThanOrEqual(16);
    for (const m of metrics) {
      expect(m.name).toMatch(/^ferstream_[a-z][a-z0-9_]*$/);
      expect(m.name.endsWith('_total')).toBe(String(m.type) === 'counter');
      expect(m.name).not.toMatch(/_(ms|milliseconds|kb|mb|percent)(_|$)/);
      const labels = new Set(
        (m as unknown as { values: Array<{ labels: object }> }).values.flatMap((v) => Object.keys(v.labels)),
      );
      for (const forbidden of ['video', 'video_id', 'job', 'job_id', 'frame'])
        expect(labels.has(forbidden)).toBe(false);
    }
  });
});
