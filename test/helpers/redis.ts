import path from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { listVideos, type Pipeline } from '../../src/pipeline/index.ts';

/** The suite's Redis (see test/setup/global-redis.ts). */
export function redisUrl(): string {
  return inject('redisUrl');
}

/**
 * A key prefix of this test file's own, so files can run in parallel; `cleanup` deletes every key
 * under it, so a file leaves nothing behind.
 */
export function testPrefix(fileUrl: string): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `fertest-${path.basename(fileUrl).replace(/\W+/g, '-')}-${process.pid}-${Date.now().toString(36)}`;
  return {
    prefix,
    cleanup: async () => {
      const client = new Redis(redisUrl());
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

/**
 * Keys of videos (records, chunks, jobs, queued work) under `keyPrefix`; BullMQ's own bookkeeping (meta, id counters,
 * event streams) is not one.
 */
export async function videoKeysLeft(keyPrefix: string): Promise<string[]> {
  const redis = new Redis(redisUrl());
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
    const left = keys.filter((k) => uuid.test(k) || /:chunk:|:prioritized$|:wait$|:active$|:delayed$/.test(k));
    const held = (await redis.get(`${keyPrefix}:frames:held-frames`)) ?? '0';
    if (!/^0?$/.test(held)) left.push(`${keyPrefix}:frames:held-frames = ${held}`);
    return left;
  } finally {
    redis.disconnect();
  }
}

/**
 * The newest video (not one of `except`) with frames done: a probe for CliProcesses.until, to act while it is being
 * analysed.
 */
export async function videoInProgress(
  pipeline: Pipeline,
  except: ReadonlySet<string> = new Set(),
): Promise<{ videoId: string; framesDone: number } | undefined> {
  const [status] = (await listVideos(pipeline, { limit: 1 })).videos;
  if (!status || except.has(status.videoId) || status.progress.framesDone === 0) return undefined;
  return { videoId: status.videoId, framesDone: status.progress.framesDone };
}
