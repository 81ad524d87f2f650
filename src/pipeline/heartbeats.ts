// Heartbeats: every producer and worker process says it is alive in Redis every few seconds
// (a sorted set per role: process id → last beat, ms), so the API, `status` and the metrics can
// say when nothing would take a video's work — a video queued with no worker running otherwise
// just waits, while /readyz says ready.

import { hostname } from 'node:os';
import type { Pipeline } from './context.ts';

export type ServiceRole = 'worker' | 'producer';
export const SERVICE_ROLES: readonly ServiceRole[] = ['worker', 'producer'];

/** How often a process beats (ms); it counts as seen for FER_SERVICE_SEEN_SECONDS after its last one. */
export const HEARTBEAT_INTERVAL_MS = 5_000;

/** Entries a day old are of processes long gone. */
const FORGET_AFTER_MS = 86_400_000;

export interface Heartbeat {
  stop(): Promise<void>;
}

/** Beats for this process in `role` until stopped (and leaves the set when stopped). */
export function startHeartbeat(pipeline: Pipeline, role: ServiceRole): Heartbeat {
  const id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const key = pipeline.keys.heartbeats(role);
  // Each beat also drops the long-gone entries, so the set stays small and readers only count.
  const beat = () => {
    const now = Date.now();
    return pipeline.redis
      .multi()
      .zadd(key, now, id)
      .zremrangebyscore(key, '-inf', now - FORGET_AFTER_MS)
      .exec()
      .catch(() => undefined);
  };
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pipeline.redis.zrem(key, id).catch(() => undefined);
    },
  };
}

/** Processes of each role seen within `withinSeconds`. */
export async function servicesSeen(pipeline: Pipeline, withinSeconds: number): Promise<Record<ServiceRole, number>> {
  const since = String(Date.now() - withinSeconds * 1000);
  const counts = await Promise.all(
    SERVICE_ROLES.map((role) => pipeline.redis.zcount(pipeline.keys.heartbeats(role), since, '+inf')),
  );
  return { worker: counts[0]!, producer: counts[1]! };
}

/** What to tell a user whose video waits for a role that nobody runs; empty when all is well. */
export function missingServiceWarnings(
  seen: Record<ServiceRole, number>,
  withinSeconds: number,
  needs: readonly ServiceRole[],
): string[] {
  const command: Record<ServiceRole, string> = {
    worker: 'fer-stream worker (or fer-stream serve)',
    producer: 'fer-stream producer, or fer-stream worker --producer (or fer-stream serve)',
  };
  return needs
    .filter((role) => seen[role] === 0)
    .map(
      (role) =>
        `no ${role} has been seen for ${withinSeconds} s: nothing will ${role === 'worker' ? 'analyse the frames' : 'split videos into frames'} until one runs (${command[role]})`,
    );
}
