// Connecting a CLI command to the pipeline's Redis. One-shot commands fail fast and in one line
// when Redis is not there (ioredis would otherwise retry for ever and the command would hang);
// long-running services wait for it with backoff, one log line per attempt, and afterwards log one
// line when the connection is lost and one when it is back — never a stack per reconnect.

import { FerError } from '../core/errors.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../core/logger.ts';
import { createPipeline, parseNodes, redisErrorReason, type Pipeline } from '../pipeline/index.ts';

/** The Redis URL without its password, for messages and logs. */
export function redactedRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the configured REDIS_URL';
  }
}

export interface OpenPipelineOptions {
  /** One-shot commands: give up after this long (default 2 s: "Redis unreachable" within 3 s). */
  readonly timeoutMs?: number;
  /** Long-running services: wait until Redis answers, logging each attempt, and log outages later. */
  readonly waitWith?: Logger;
  /** The API: commands fail at once while Redis is down, and are never resent later. */
  readonly failFast?: boolean;
}

/**
 * Opens the pipeline once Redis answers; FerError `redis_unavailable` (exit code `unavailable`) when
 * a one-shot command cannot reach it.
 */
export async function openPipeline(config: Config, options: OpenPipelineOptions = {}): Promise<Pipeline> {
  const log = options.waitWith;
  let ready = false;
  const pipeline = createPipeline({
    redisUrl: config.redisUrl,
    ...(config.redisSentinels
      ? { sentinel: { sentinels: parseNodes(config.redisSentinels), name: config.redisSentinelName } }
      : {}),
    ...(config.redisCluster ? { cluster: { nodes: parseNodes(config.redisCluster) } } : {}),
    prefix: config.redisPrefix,
    config: config.pipeline,
    ...(options.failFast ? { failFast: true } : {}),
    connectionEvents: {
      // One line per outage for the process (its main connection); the other connections follow it.
      lost: (e) =>
        ready &&
        log &&
        (e.connection === 'redis-1'
          ? log.warn({ reason: e.reason }, 'Redis connection lost; reconnecting')
          : log.debug({ connection: e.connection, reason: e.reason }, 'Redis connection lost')),
      restored: (e) =>
        ready &&
        log &&
        (e.connection === 'redis-1'
          ? log.info({ downMs: e.downMs }, 'Redis connection restored')
          : log.debug({ connection: e.connection }, 'Redis connection restored')),
    },
  });
  let lastError: unknown;
  let errors = 0;
  let refusedEnough: (() => void) | undefined;
  const onError = (error: unknown) => {
    lastError = error;
    // One-shot commands: three failed connection attempts in a row (≈0.4 s of ioredis backoff) settle it.
    if (++errors >= 3) refusedEnough?.();
  };
  pipeline.redis.on('error', onError);
  const where = redactedRedisUrl(config.redisUrl);
  try {
    if (log) {
      let attempt = 0;
      let waitMs = 1000;
      while (!(await readyWithin(pipeline, waitMs))) {
        attempt += 1;
        log.warn(
          { attempt, reason: lastError ? redisErrorReason(lastError) : 'no answer' },
          `Redis at ${where} not reachable yet; waiting (attempt ${attempt}, next check in ${Math.round(Math.min(30_000, waitMs * 2) / 1000)} s)`,
        );
        waitMs = Math.min(30_000, waitMs * 2);
      }
      if (attempt > 0) log.info(`Redis at ${where} reachable`);
    } else if (!(await readyWithin(pipeline, options.timeoutMs ?? 2000, (giveUp) => (refusedEnough = giveUp)))) {
      const reason = lastError ? redisErrorReason(lastError) : '';
      // Up but refusing us: the hint is the credentials, not whether it runs.
      if (/WRONGPASS|NOAUTH|NOPERM/.test(reason))
        throw new FerError(
          'redis_unavailable',
          `Redis at ${where} refused the connection's credentials (${reason}): check the user and password in REDIS_URL`,
        );
      throw new FerError(
        'redis_unavailable',
        `Redis unreachable at ${where}${reason ? ` (${reason})` : ''}: is it running? (set REDIS_URL)`,
      );
    }
  } catch (error) {
    // Not pipeline.close(): closing queues waits for a connection that never comes.
    pipeline.redis.disconnect();
    throw error;
  } finally {
    pipeline.redis.off('error', onError);
  }
  ready = true;
  return pipeline;
}

/** Whether Redis became ready within `ms`; `onGiveUp` receives a function that ends the wait early (false). */
function readyWithin(pipeline: Pipeline, ms: number, onGiveUp?: (giveUp: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    if (pipeline.redis.status === 'ready') return resolve(true);
    const giveUp = () => {
      clearTimeout(timer);
      pipeline.redis.off('ready', onReady);
      resolve(false);
    };
    const timer = setTimeout(giveUp, ms);
    onGiveUp?.(giveUp);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    pipeline.redis.once('ready', onReady);
  });
}
