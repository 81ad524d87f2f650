import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { isRedisFull, isRedisUnavailable, reportQueueError } from '../../src/pipeline/index.ts';
import { describeWithRedisServer, OwnRedis } from '../helpers/redis-server.ts';

// What a full Redis (maxmemory reached, noeviction) answers, as ioredis hands it over — a command, a
// script, a MULTI — is recognised as "full, wait", and a flood of the same queue error is one line.

describeWithRedisServer('a Redis at its maxmemory', () => {
  let own: OwnRedis;
  let redis: Redis;
  beforeAll(async () => {
    own = await OwnRedis.start();
    redis = new Redis(own.url, { maxRetriesPerRequest: 1 });
    await redis.set('some', 'x'.repeat(100_000));
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    await redis.config('SET', 'maxmemory', String(used - 50_000));
  });
  afterAll(async () => {
    redis?.disconnect();
    await own?.stop();
  });

  it('refuses writes in every form with errors isRedisFull knows, and they are not outages', async () => {
    const refusals = [
      await redis.set('k', 'v').catch((e: unknown) => e),
      await redis.eval("return redis.call('SET', KEYS[1], 'v')", 1, 'k').catch((e: unknown) => e),
      await redis.multi().set('k', 'v').incr('n').exec().catch((e: unknown) => e),
    ];
    for (const error of refusals) {
      expect(error).toBeInstanceOf(Error);
      expect(isRedisFull(error)).toBe(true);
      expect(isRedisUnavailable(error)).toBe(false);
    }
    expect(String((refusals[2] as Error).message)).toMatch(/^EXECABORT/);
    // Reads still work; a plain error is not "full".
    expect(await redis.get('k')).toBeNull();
    expect(isRedisFull(await redis.call('NOSUCHCOMMAND').catch((e: unknown) => e))).toBe(false);
  });
});

it('logs a queue error repeated hundreds of times once per 10 s per reason, saying how often it came', () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = { debug: () => undefined, warn: (fields: Record<string, unknown>, msg: string) => lines.push({ ...fields, msg }) };
  const full = (sha: string) => new Error(`OOM command not allowed when used memory > 'maxmemory'. script: ${sha}, on @user_script:217.`);
  const t0 = 1_000_000;
  for (let i = 0; i < 500; i++) reportQueueError(log, 'frames-test', full(i % 2 ? 'a'.repeat(40) : 'b'.repeat(40)), t0 + i);
  reportQueueError(log, 'videos-test', full('c'.repeat(40)), t0 + 600);
  reportQueueError(log, 'frames-test', new Error('something else'), t0 + 700);
  reportQueueError(log, 'frames-test', full('d'.repeat(40)), t0 + 10_500);
  expect(lines.map((l) => [l.queue, l.repeatedSinceLast ?? 0])).toEqual([
    ['frames-test', 0],
    ['videos-test', 0],
    ['frames-test', 0],
    ['frames-test', 499],
  ]);
  expect(lines[0]!.hint).toMatch(/maxmemory/);
  expect(lines[2]!.hint).toBeUndefined();
});
