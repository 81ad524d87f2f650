// The rate limit's counters in the pipeline's Redis: every API replica draws on one budget per
// token (or client address), where counters in each process's memory would let N replicas allow
// N times the limit. One counter per key and window (INCR, expiry set by the first request);
// each call is bounded like every other Redis call of the API, so a Redis that is down or hung
// answers 503 `unavailable` in time instead of holding the request.

import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { isRedisFull, type Pipeline } from '../pipeline/index.ts';
import { withRedisDeadline } from './pipeline-service.ts';

// A counter left without an expiry (written by hand, or its PEXPIRE lost) gets one again.
const COUNT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`;

type Answer = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A rate-limit store on `pipeline`'s Redis under its `rateLimitPrefix`, each call bounded by
 * `deadlineMs`: the class @fastify/rate-limit's `store` option takes (it constructs it once).
 */
export function redisRateLimitStore(pipeline: Pipeline, deadlineMs: number): FastifyRateLimitStoreCtor {
  const count = (key: string, timeWindow: number, answer: Answer) => {
    withRedisDeadline(
      () => pipeline.redis.eval(COUNT, 1, key, timeWindow) as Promise<[number, number]>,
      deadlineMs,
    ).then(
      ([current, ttl]) => answer(null, { current, ttl }),
      // A full Redis refuses the count (a write) but still answers reads: let the request through
      // uncounted rather than refuse every status and result while it is full.
      (error: Error) => (isRedisFull(error.cause) ? answer(null, { current: 1, ttl: timeWindow }) : answer(error)),
    );
  };
  class RedisRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _settings: unknown,
      private readonly prefix = pipeline.keys.rateLimitPrefix,
    ) {}
    incr(key: string, answer: Answer, timeWindow: number): void {
      count(this.prefix + key, timeWindow, answer);
    }
    // A route with a rate limit of its own counts apart.
    child(routeOptions: { method: string | string[]; url: string }): RedisRateLimitStore {
      return new RedisRateLimitStore(undefined, `${this.prefix}${String(routeOptions.method)}${routeOptions.url}:`);
    }
  }
  return RedisRateLimitStore;
}
