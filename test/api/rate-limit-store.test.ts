// The API's rate limit counted in Redis: two API processes' servers on one Redis share each
// token's budget (in memory each would allow the whole limit), tokens keep budgets of their own,
// and a Redis that is hung or down answers 503 `unavailable` in time instead of holding requests.
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseTokens } from '../../src/api/auth.ts';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { redisRateLimitStore } from '../../src/api/rate-limit-store.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.ts';
import { OwnRedis } from '../helpers/own-redis.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';
const LIMIT = 5;
const DEADLINE_MS = 800;
const { prefix, cleanup } = testPrefix(import.meta.url);

const opened: Array<{ app: FastifyInstance; pipeline: Pipeline }> = [];

/** One API replica: its own pipeline connection and server; the counters in Redis unless `inMemory`. */
async function replica(url: string, options: { inMemory?: boolean } = {}): Promise<FastifyInstance> {
  const config = loadConfig();
  const pipeline = createPipeline({ redisUrl: url, prefix, config: config.pipeline, failFast: true });
  // failFast fails commands until connected (the api command waits for Redis before it listens).
  if (pipeline.redis.status !== 'ready') await once(pipeline.redis, 'ready');
  const app = await buildApiServer({
    config: { uploadDir: '/nonexistent', maxUploadBytes: 1024, maxJsonBytes: 4096, rateLimitPerMinute: LIMIT },
    service: createPipelineVideoService(pipeline, { redisTimeoutMs: DEADLINE_MS }),
    tokens: parseTokens([`alice:${ALICE}`, `bob:${BOB}`]),
    ...(options.inMemory ? {} : { rateLimitStore: redisRateLimitStore(pipeline, DEADLINE_MS) }),
  });
  opened.push({ app, pipeline });
  return app;
}

const get = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/v1/videos/nothing', headers: { authorization: `Bearer ${token}` } });

afterEach(async () => {
  for (const { app, pipeline } of opened.splice(0)) {
    await app.close();
    await pipeline.close();
  }
});
afterAll(() => cleanup());

describe('rate limit in Redis', () => {
  it("two replicas share one budget per token: the limit holds across them, each token's apart", async () => {
    const [a, b] = [await replica(redisUrl()), await replica(redisUrl())];
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await get(i % 2 === 0 ? a : b, ALICE)).statusCode);
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
    const limited = await get(b, ALICE);
    expect(limited.json().error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/more than 5 requests.*FER_API_RATE_LIMIT/),
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Bob's budget is his own, on either replica; probes are never counted.
    expect((await get(a, BOB)).statusCode).toBe(404);
    expect((await b.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // The counters live under the pipeline's prefix and expire with their window.
    const client = opened[0]!.pipeline.redis;
    const keys = await client.keys(`${prefix}:api:rate-limit:*`);
    expect(keys.sort()).toEqual([`${prefix}:api:rate-limit:token:alice`, `${prefix}:api:rate-limit:token:bob`]);
    for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(50_000);
    await client.del(...keys);
  });

  it('counted in each process, two replicas would allow twice the limit (why the counters are in Redis)', async () => {
    const [a, b] = [await replica(redisUrl(), { inMemory: true }), await replica(redisUrl(), { inMemory: true })];
    const statuses: number[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) statuses.push((await get(i % 2 === 0 ? a : b, ALICE)).statusCode);
    expect(statuses.filter((s) => s === 404)).toHaveLength(2 * LIMIT);
  });

  it('a hung Redis answers 503 unavailable within the deadline, a Redis that is down at once; counting resumes after', async () => {
    const own = await OwnRedis.start();
    try {
      const app = await replica(own.url);
      expect((await get(app, ALICE)).statusCode).toBe(404);
      own.pause();
      let started = Date.now();
      const hung = await get(app, ALICE);
      const hungMs = Date.now() - started;
      own.resume();
      expect(hung.statusCode).toBe(503);
      expect(hung.json().error.code).toBe('unavailable');
      // The rate limit's deadline, not the service's after it: one deadline in all.
      expect(hungMs).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(hungMs).toBeLessThan(2 * DEADLINE_MS);
      await own.crash();
      started = Date.now();
      const down = await get(app, ALICE);
      expect(down.statusCode).toBe(503);
      expect(down.json().error.code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
      await own.up();
      let status = 0;
      for (let tries = 0; tries < 50 && status !== 404; tries++) {
        status = (await get(app, ALICE)).statusCode;
        if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(404);
    } finally {
      await own.stop();
    }
  });
});
