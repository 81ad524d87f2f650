import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { registerQueueMetrics } from '../../src/metrics/queues.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
afterAll(async () => {
  await cleanup();
  connection.disconnect();
});

describe('queue metrics', () => {
  it('reports job counts per state and the age of the oldest waiting job, read from BullMQ', async () => {
    const queue = new Queue('frames', { connection, prefix });
    let now = Date.now();
    await queue.add('a', { n: 1 }, { timestamp: now - 30_000 });
    await queue.add('b', { n: 2 }, { timestamp: now - 5_000 });
    await queue.add('c', { n: 3 }, { delay: 60_000 });
    // Frame chunks are prioritized (fairness across videos): they wait too, and count for the age.
    await queue.add('d', { n: 4 }, { priority: 3, timestamp: now - 60_000 });
    const registry = createMetricsRegistry();
    registerQueueMetrics(registry, [queue], { ttlMs: 1_000, now: () => now });

    const text = await registry.metrics();
    expect(text).toMatch(/^ferstream_queue_jobs\{queue="frames",state="waiting"\} 2$/m);
    expect(text).toMatch(/^ferstream_queue_jobs\{queue="frames",state="delayed"\} 1$/m);
    expect(text).toMatch(/^ferstream_queue_jobs\{queue="frames",state="prioritized"\} 1$/m);
    expect(text).toMatch(/^ferstream_queue_jobs\{queue="frames",state="active"\} 0$/m);
    expect(text).toMatch(/^ferstream_queue_jobs\{queue="frames",state="failed"\} 0$/m);
    const age = Number(/^ferstream_queue_oldest_waiting_age_seconds\{queue="frames"\} (\S+)$/m.exec(text)![1]);
    expect(age).toBeCloseTo(60, 0);

    // Within the TTL the cached answer is served; after it, Redis is read again.
    await queue.drain();
    expect(await registry.metrics()).toMatch(/state="waiting"\} 2$/m);
    now += 1_000;
    const after = await registry.metrics();
    expect(after).toMatch(/^ferstream_queue_jobs\{queue="frames",state="waiting"\} 0$/m);
    expect(after).toMatch(/^ferstream_queue_oldest_waiting_age_seconds\{queue="frames"\} 0$/m);
    await queue.close();
  });

  it('keeps serving the scrape when Redis fails, and reports the error', async () => {
    const errors: string[] = [];
    const broken = {
      name: 'videos',
      getJobCounts: () => Promise.reject(new Error('connection lost')),
      getJobs: () => Promise.resolve([]),
    } as unknown as Queue;
    const registry = createMetricsRegistry();
    registerQueueMetrics(registry, [broken], { onError: (e) => errors.push(e.message) });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE ferstream_queue_jobs gauge');
    expect(errors).toEqual(['connection lost']);
  });
});
