import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.ts';
import {
  addSegmentJobs,
  beginSegment,
  createPipeline,
  enqueueFinalize,
  isRedisFull,
  isRedisUnavailable,
  markSegmentProduced,
  reportQueueError,
  segmentJobId,
  reserveChunkWhenRoom,
  submitVideo,
  updateVideo,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { describeWithRedisServer, OwnRedis } from '../helpers/redis-server.ts';

// What a full Redis (maxmemory reached, noeviction) answers, as ioredis hands it over — a command, a
// script, a MULTI — is recognised as "full, wait", a flood of the same queue error is one line, and
// the producer's record writes wait for room instead of failing the video.

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
      await redis
        .multi()
        .set('k', 'v')
        .incr('n')
        .exec()
        .catch((e: unknown) => e),
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
  const log = {
    debug: () => undefined,
    warn: (fields: Record<string, unknown>, msg: string) => lines.push({ ...fields, msg }),
  };
  const full = (sha: string) =>
    new Error(`OOM command not allowed when used memory > 'maxmemory'. script: ${sha}, on @user_script:217.`);
  const t0 = 1_000_000;
  for (let i = 0; i < 500; i++)
    reportQueueError(log, 'frames-test', full(i % 2 ? 'a'.repeat(40) : 'b'.repeat(40)), t0 + i);
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

describeWithRedisServer("a producer's writes while Redis is full", () => {
  let own: OwnRedis;
  let pipeline: Pipeline;
  beforeAll(async () => {
    own = await OwnRedis.start();
    pipeline = createPipeline({ redisUrl: own.url, prefix: 'fer-full-writes', config: loadConfig({}).pipeline });
  });
  afterAll(async () => {
    await pipeline?.close();
    await own?.stop();
  });

  it('wait until there is room, then take effect once: none fails the video', async () => {
    const { videoId } = await submitVideo(pipeline, { path: '/nonexistent/never-produced.mp4' });
    const chunkKey = pipeline.keys.chunk(videoId, 0);
    const used = Number(/used_memory:(\d+)/.exec(await pipeline.redis.info('memory'))![1]);
    await pipeline.redis.config('SET', 'maxmemory', String(used - 100_000));
    // Refused while full: each of these must still be waiting when room is made.
    const settled: string[] = [];
    const writes = {
      updateVideo: updateVideo(pipeline, videoId, { state: 'producing' }),
      reserve: reserveChunkWhenRoom(pipeline, chunkKey, 1000, 4),
      segments: addSegmentJobs(pipeline, videoId, [{ index: 0, firstIndex: 0, frames: 4 }]),
      begin: beginSegment(pipeline, videoId, 0),
      markSegment: markSegmentProduced(pipeline, videoId, 0, 1, 4),
      finalize: enqueueFinalize(pipeline, videoId),
    };
    for (const [name, write] of Object.entries(writes))
      void write.then(
        () => settled.push(name),
        () => settled.push(`${name} failed`),
      );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(settled).toEqual([]);
    expect(await pipeline.redis.hget(pipeline.keys.video(videoId), 'state')).toBe('queued');

    await pipeline.redis.config('SET', 'maxmemory', '0');
    const results = await Promise.all(Object.values(writes));
    expect(settled.sort()).toEqual(Object.keys(writes).sort());
    expect(results[0]).toBe(true);
    const record = await pipeline.redis.hgetall(pipeline.keys.video(videoId));
    // 'producing', then 'processing' once its only segment was marked produced (the order is Redis's).
    expect(['producing', 'processing']).toContain(record.state);
    expect(record['segmentFrames:0']).toBe('4');
    expect(record['segmentStarted:0']).toBeDefined();
    expect(await pipeline.queues.videos.getJobState(segmentJobId(videoId, 0))).not.toBe('unknown');
    expect(await pipeline.redis.hexists(pipeline.keys.shardOf(chunkKey).heldChunks, chunkKey)).toBe(1);
    expect(await pipeline.queues.finalize.getJobState(videoId)).not.toBe('unknown');
  });
});
