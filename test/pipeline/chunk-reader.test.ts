import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkBufferPool, ChunkReader } from '../../src/pipeline/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);

describe('ChunkReader (binary GET into pooled buffers)', () => {
  let redis: Redis;
  const pool = new ChunkBufferPool();
  let reader: ChunkReader;

  beforeAll(() => {
    redis = new Redis(redisUrl());
    reader = new ChunkReader(redisUrl(), pool);
  });

  afterAll(async () => {
    reader.close();
    redis.disconnect();
    await cleanup();
  });

  it('returns exact bytes for values of many sizes, pipelined, and null for missing keys', async () => {
    const sizes = [1, 2, 13, 65_535, 65_536, 1 << 20, (1 << 20) + 7, 5 * 150_528];
    const values = sizes.map((n) => randomBytes(n));
    // Values that contain CRLF and "$" must not confuse the parser.
    values.push(Buffer.from('\r\n$-1\r\n-ERR x\r\n+OK\r\n'));
    await Promise.all(values.map((v, i) => redis.set(`${prefix}:v${i}`, v)));
    await redis.set(`${prefix}:empty`, '');
    const keys = [...values.keys()].map((i) => `${prefix}:v${i}`);
    const [got, missing, empty] = await Promise.all([Promise.all(keys.map((k) => reader.get(k))), reader.get(`${prefix}:nope`), reader.get(`${prefix}:empty`)]);
    got.forEach((buffer, i) => expect(buffer!.equals(values[i]!)).toBe(true));
    expect(missing).toBeNull();
    expect(empty!.length).toBe(0);
  });

  it('reuses released buffers of the same size', async () => {
    await redis.set(`${prefix}:a`, randomBytes(4096));
    const first = (await reader.get(`${prefix}:a`))!;
    pool.release(first);
    const second = (await reader.get(`${prefix}:a`))!;
    expect(second).toBe(first);
  });

  it('reports Redis errors for the command that caused them', async () => {
    await redis.hset(`${prefix}:hash`, 'f', 'v');
    await expect(reader.get(`${prefix}:hash`)).rejects.toThrow(/WRONGTYPE/);
    expect(reader.healthy).toBe(true);
  });
});
