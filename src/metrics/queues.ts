import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import type { Registry } from './registry.ts';

/** What the queue gauges need of a BullMQ Queue (tests can pass their own). */
export type QueueStatsSource = Pick<Queue, 'name' | 'getJobCounts' | 'getJobs'>;

/** Job states reported by `ferstream_queue_jobs`. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;

/**
 * Queue depth per state (`ferstream_queue_jobs{queue, state}`) and the age of the oldest waiting
 * job, prioritized ones included (`ferstream_queue_oldest_waiting_age_seconds{queue}`), read from
 * Redis when scraped.
 * Answers are cached for `ttlMs`, so several Prometheus servers (or a fast scrape) do not
 * multiply the Redis load. Every process that holds the queues may export them; the values are
 * the same everywhere, so dashboards aggregate them with `max by (queue, state)`.
 * A Redis error is passed to `onError` and the gauges keep their last values (a scrape never fails
 * because Redis is briefly away).
 */
export function registerQueueMetrics(
  registry: Registry,
  queues: readonly QueueStatsSource[],
  options: { ttlMs?: number; now?: () => number; onError?: (error: Error) => void } = {},
): void {
  const ttlMs = options.ttlMs ?? 1000;
  const now = options.now ?? Date.now;
  let cached: { at: number; stats: Promise<QueueStats[]> } | undefined;
  const read = (): Promise<QueueStats[]> => {
    const t = now();
    if (cached === undefined || t - cached.at >= ttlMs) {
      cached = { at: t, stats: Promise.all(queues.map((q) => readQueue(q, t))) };
    }
    return cached.stats;
  };
  let lastReported: Promise<QueueStats[]> | undefined;
  const refresh = async (): Promise<QueueStats[] | undefined> => {
    const stats = read();
    try {
      return await stats;
    } catch (error) {
      if (cached?.stats === stats) cached = undefined;
      // Both gauges await the same read: report its failure once.
      if (lastReported !== stats) {
        lastReported = stats;
        options.onError?.(error as Error);
      }
      return undefined;
    }
  };

  new Gauge({
    name: 'ferstream_queue_jobs',
    help: 'Jobs in each BullMQ queue by state (waiting, active, delayed, prioritized, waiting-children, failed, completed).',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const stats = await refresh();
      for (const q of stats ?? [])
        for (const [state, count] of Object.entries(q.counts)) this.set({ queue: q.name, state }, count);
    },
  });
  new Gauge({
    name: 'ferstream_queue_oldest_waiting_age_seconds',
    help: 'Age of the oldest job waiting in each queue (0 when none waits): how far behind the workers are.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const stats = await refresh();
      for (const q of stats ?? []) this.set({ queue: q.name }, q.oldestWaitingAgeSeconds);
    },
  });
}

interface QueueStats {
  name: string;
  counts: Record<string, number>;
  oldestWaitingAgeSeconds: number;
}

/**
 * Prioritized jobs (frame chunks are: fairness across videos) are waiting too. Their set is
 * ordered by priority, not age, so the oldest is looked for among the next PRIORITIZED_SCAN to be
 * served: exact for a queue of one video, a lower bound when many videos interleave.
 */
const PRIORITIZED_SCAN = 100;

async function readQueue(queue: QueueStatsSource, at: number): Promise<QueueStats> {
  const [counts, oldestWaiting, nextPrioritized] = await Promise.all([
    queue.getJobCounts(...QUEUE_STATES),
    // asc = true: oldest first.
    queue.getJobs(['waiting'], 0, 0, true),
    queue.getJobs(['prioritized'], 0, PRIORITIZED_SCAN - 1, true),
  ]);
  const timestamps = [...oldestWaiting, ...nextPrioritized]
    .map((job) => job?.timestamp)
    .filter((t): t is number => typeof t === 'number');
  return {
    name: queue.name,
    counts,
    oldestWaitingAgeSeconds: timestamps.length === 0 ? 0 : Math.max(0, (at - Math.min(...timestamps)) / 1000),
  };
}
