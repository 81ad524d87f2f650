// One line per Redis outage instead of a stack dump per reconnect attempt. Every ioredis
// connection of the pipeline gets an 'error' listener (without one ioredis prints "Unhandled
// error event" with a stack for each retry) that reports the first error of an outage and the
// recovery, and nothing in between.

import type { Redis } from 'ioredis';
import { FerError } from '../core/types.ts';

export interface ConnectionEvents {
  /** The connection failed (first error of an outage only). */
  lost?(event: { connection: string; reason: string }): void;
  /** The connection is ready again after an outage. */
  restored?(event: { connection: string; downMs: number }): void;
}

/** Short reason for a Redis error: its code (ECONNREFUSED, ECONNRESET, …) or first message line. */
export function redisErrorReason(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  return String(e?.message ?? error).split('\n')[0]!.slice(0, 200);
}

/** True for errors that mean "Redis is not reachable right now" (worth retrying after a reconnect). */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof FerError) return error.code === 'redis_unavailable';
  const reason = redisErrorReason(error);
  return /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(reason) || /Connection is closed|Stream isn't writeable|LOADING|READONLY|TRYAGAIN|MASTERDOWN|max retries per request/.test(reason);
}

export function watchConnection(redis: Redis, connection: string, events: ConnectionEvents): void {
  let downSince: number | undefined;
  redis.on('error', (error: unknown) => {
    if (downSince !== undefined) return;
    downSince = Date.now();
    events.lost?.({ connection, reason: redisErrorReason(error) });
  });
  redis.on('ready', () => {
    if (downSince === undefined) return;
    const downMs = Date.now() - downSince;
    downSince = undefined;
    events.restored?.({ connection, downMs });
  });
}

interface QueueErrorLog {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * A BullMQ Worker's 'error' event. Connection errors were already said once by the watcher; a lost
 * job lock during an outage only means the job runs again through the stall check (idempotent):
 * both are debug lines. Anything else is a warning.
 */
export function reportQueueError(log: QueueErrorLog | undefined, queue: string, error: Error): void {
  const message = error.message;
  const routine = isRedisUnavailable(error) || /ECONNREFUSED|ECONNRESET|could not renew lock|Missing lock for job/.test(message);
  if (routine) log?.debug({ queue, reason: message }, 'queue: connection or lock lost (the job runs again if needed)');
  else log?.warn({ queue, reason: message }, 'queue error');
}
