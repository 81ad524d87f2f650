import path from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

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
