import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { redisRateLimitStore } from '../../src/api/rate-limit-store.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, listVideoIds, redisMemory, type Pipeline } from '../../src/pipeline/index.ts';
import { describeWithRedisServer, OwnRedis } from '../helpers/redis-server.ts';

// A Redis that reached its maxmemory (noeviction, as the pipeline runs it) refuses every write.
// The API says so — 503 `unavailable`, naming the cause — instead of a 500, reads still work (the
// rate limit, counted in Redis, lets them through uncounted), and
// a submission refused so never runs later.

describeWithRedisServer('the API on a Redis that is out of memory', () => {
  let redis: OwnRedis;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  let tmp: string;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-redis-full-'));
    await writeFile(path.join(tmp, 'clip.mp4'), 'x');
    pipeline = createPipeline({ redisUrl: redis.url, prefix: 'full', config: loadConfig({}).pipeline });
    app = await buildApiServer({
      config: {
        uploadDir: path.join(tmp, 'uploads'),
        inputDir: tmp,
        maxUploadBytes: 1 << 20,
        maxJsonBytes: 4096,
        rateLimitPerMinute: 100,
      },
      service: createPipelineVideoService(pipeline, { redisTimeoutMs: 2000 }),
      // As `fer-stream api` runs: the rate limit counted in this Redis (a write on every request).
      rateLimitStore: redisRateLimitStore(pipeline, 2000),
    });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.close();
    await redis?.crash();
    await rm(tmp, { recursive: true, force: true });
  });

  const submit = () => app.inject({ method: 'POST', url: '/v1/videos', payload: { path: 'clip.mp4' } });

  it('answers a submission 503 with the reason, keeps answering reads, and takes submissions again once there is room', async () => {
    expect((await submit()).statusCode).toBe(202);
    // Fill it: maxmemory just under what it uses now.
    const [{ usedBytes }] = await redisMemory(pipeline);
    await pipeline.redis.config('SET', 'maxmemory', String(usedBytes! - 64 * 1024));
    const refused = await submit();
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toEqual({
      code: 'unavailable',
      message: 'Redis is out of memory (its maxmemory is reached): the request had no effect; try again later',
    });
    // Reads go on: the rate limit's count (a write) is refused too, and lets them through uncounted.
    const list = await app.inject({ method: 'GET', url: '/v1/videos' });
    expect(list.statusCode).toBe(200);
    expect(list.json().videos).toHaveLength(1);
    const id = list.json().videos[0].id as string;
    expect((await app.inject({ method: 'GET', url: `/v1/videos/${id}` })).statusCode).toBe(200);

    await pipeline.redis.config('SET', 'maxmemory', '0');
    expect((await submit()).statusCode).toBe(202);
    // The refused submission left nothing behind: two videos, two producer jobs.
    expect(await listVideoIds(pipeline)).toHaveLength(2);
    expect(await pipeline.queues.videos.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(2);
  });
});
