// One line per Redis outage instead of a stack dump per reconnect attempt. Every ioredis
// connection of the pipeline gets an 'error' listener (without one ioredis prints "Unhandled
// error event" with a stack for each retry) that reports the first error of an outage and the
// recovery, and nothing in between.

import type { Cluster, Redis } from 'ioredis';
import { FerError } from '../core/errors.ts';

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
  return String(e?.message ?? error)
    .split('\n')[0]!
    .slice(0, 200);
}

/** True for errors that mean "Redis is not reachable right now" (worth retrying after a reconnect). */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof FerError) return error.code === 'redis_unavailable';
  const reason = redisErrorReason(error);
  return (
    /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(reason) ||
    /Connection is closed|Stream isn't writeable|LOADING|READONLY|TRYAGAIN|MASTERDOWN|max retries per request/.test(
      reason,
    )
  );
}

/**
 * True when Redis refused a write because it reached its maxmemory (noeviction, as BullMQ needs).
 * The command (a script too: it stops at its first write) changed nothing, and the condition
 * passes once workers drain frames or results expire: wait and retry, like an outage.
 */
export function isRedisFull(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; previousErrors?: unknown } | null;
  if (e?.code === 'redis_full' || /^(Redis: )?OOM command not allowed/.test(String(e?.message ?? ''))) return true;
  // A MULTI whose queued command was refused so is discarded whole (EXECABORT): nothing was written.
  return Array.isArray(e?.previousErrors) && e.previousErrors.some(isRedisFull);
}

export function watchConnection(redis: Redis | Cluster, connection: string, events: ConnectionEvents): void {
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

/** A warning repeated with the same reason is logged once per this long, with how often it came. */
const REPEAT_WINDOW_MS = 10_000;
const lastWarned = new Map<string, { at: number; suppressed: number }>();

/**
 * A BullMQ Worker's 'error' event. Connection errors were already said once by the watcher; a lost
 * job lock during an outage only means the job runs again through the stall check (idempotent):
 * both are debug lines. Anything else is a warning, the same one at most once per REPEAT_WINDOW_MS.
 */
export function reportQueueError(log: QueueErrorLog | undefined, queue: string, error: Error, now = Date.now()): void {
  const message = error.message;
  const routine =
    isRedisUnavailable(error) || /ECONNREFUSED|ECONNRESET|could not renew lock|Missing lock for job/.test(message);
  if (routine)
    return void log?.debug({ queue, reason: message }, 'queue: connection or lock lost (the job runs again if needed)');
  // BullMQ retries its own scripts at once: a full Redis gives hundreds of the same error a second.
  const key = `${queue}\n${message.replace(/script: [0-9a-f]{40}, on @user_script:\d+\.?/, 'script')}`;
  const last = lastWarned.get(key);
  if (last !== undefined && now - last.at < REPEAT_WINDOW_MS) {
    last.suppressed++;
    return;
  }
  lastWarned.set(key, { at: now, suppressed: 0 });
  if (lastWarned.size > 100) lastWarned.delete(lastWarned.keys().next().value!);
  const repeated = last?.suppressed ? { repeatedSinceLast: last.suppressed } : {};
  log?.warn(
    {
      queue,
      reason: message,
      ...repeated,
      ...(isRedisFull(error) ? { hint: 'Redis reached its maxmemory: writes wait until there is room' } : {}),
    },
    'queue error',
  );
}
