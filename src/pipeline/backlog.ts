// The backlog an autoscaler scales workers on: frame chunks not yet taken by a worker — BullMQ
// keeps them in three structures (waiting, prioritized: every chunk, for fairness; delayed:
// retries in backoff), so all three are counted — the frames in them, and the age of the oldest.
// Frames are the budget's held frames minus those of chunks being analysed right now (few: workers
// × concurrency), so no scrape has to read every waiting job.
// One process at a time exports it (a lease in Redis, renewed at each read): summed over every
// producer, worker and API process, as dashboards and KEDA do, it is counted once.

import { randomUUID } from 'node:crypto';
import type { Pipeline } from './context.ts';
import { heldFrames } from './frame-store.ts';

export interface Backlog {
  /** Chunk jobs waiting, prioritized or delayed on the frames queue. */
  readonly chunks: number;
  /** Frames in those chunks. */
  readonly frames: number;
  /** Age of the oldest of the next chunks to be served (0 when none waits). */
  readonly oldestSeconds: number;
}

/** Takes or renews the exporter lease. KEYS: lease. ARGV: token, ttlMs. */
const LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;

/** How long a silent exporter keeps the lease: a few scrape intervals, then another process takes over. */
export const BACKLOG_LEASE_MS = 45_000;

/** Scanned for the oldest waiting chunk: the next ones to be served. */
const OLDEST_SCAN = 100;

/** A reader for this process: the backlog while this process holds the exporter lease, null otherwise. */
export function backlogExporter(pipeline: Pipeline, leaseMs = BACKLOG_LEASE_MS): () => Promise<Backlog | null> {
  const token = randomUUID();
  const key = `${pipeline.keys.bullPrefix}:backlog-exporter`;
  return async () => {
    const leader = Number(await pipeline.redis.eval(LEASE, 1, key, token, leaseMs)) === 1;
    return leader ? readBacklog(pipeline) : null;
  };
}

export async function readBacklog(pipeline: Pipeline, now = Date.now()): Promise<Backlog> {
  const frames = pipeline.queues.frames;
  const [counts, held, active, next] = await Promise.all([
    frames.getJobCounts('waiting', 'prioritized', 'delayed'),
    heldFrames(pipeline),
    frames.getJobs(['active']),
    frames.getJobs(['prioritized', 'waiting'], 0, OLDEST_SCAN - 1, true),
  ]);
  const activeFrames = active.reduce((n, job) => n + (job?.data.timestamps.length ?? 0), 0);
  const stamps = next.map((job) => job?.timestamp).filter((t): t is number => typeof t === 'number');
  return {
    chunks: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    frames: Math.max(0, held.frames - activeFrames),
    oldestSeconds: stamps.length === 0 ? 0 : Math.max(0, (now - Math.min(...stamps)) / 1000),
  };
}
