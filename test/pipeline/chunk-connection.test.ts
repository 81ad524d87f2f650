import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkBufferPool, ChunkConnection } from '../../src/pipeline/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);

describe('ChunkConnection (binary GET into pooled buffers, SET without copies)', () => {
  let redis: Redis;
  const pool = new ChunkBufferPool();
  let connection: ChunkConnection;

  beforeAll(() => {
    redis = new Redis(redisUrl());
    connection = new ChunkConnection(redisUrl(), pool);
  });

  afterAll(async () => {
    connection.close();
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
    const [got, missing, empty] = await Promise.all([
      Promise.all(keys.map((k) => connection.get(k))),
      connection.get(`${prefix}:nope`),
      connection.get(`${prefix}:empty`),
    ]);
    got.forEach((buffer, i) => expect(buffer!.equals(values[i]!)).toBe(true));
    expect(missing).toBeNull();
    expect(empty!.length).toBe(0);
  });

  it('reuses released buffers of the same size', async () => {
    await redis.set(`${prefix}:a`, randomBytes(4096));
    const first = (await connection.get(`${prefix}:a`))!;
    pool.release(first);
    const second = (await connection.get(`${prefix}:a`))!;
    expect(second).toBe(first);
  });

  it('stores values of many sizes exactly, with the TTL, pipelined with reads', async () => {
    const sizes = [0, 1, 65_536, (1 << 20) + 3, 32 * 150_528];
    const values = sizes.map((n) => randomBytes(n));
    values.push(Buffer.from('\r\n$-1\r\n*3\r\n'));
    await Promise.all(values.map((v, i) => connection.set(`${prefix}:s${i}`, v, 60)));
    for (const [i, v] of values.entries()) {
      expect((await redis.getBuffer(`${prefix}:s${i}`))!.equals(v)).toBe(true);
      const ttl = await redis.ttl(`${prefix}:s${i}`);
      expect(ttl).toBeGreaterThan(55);
      expect(ttl).toBeLessThanOrEqual(60);
    }
    // A subarray view is stored as just its bytes.
    const whole = randomBytes(1000);
    await connection.set(`${prefix}:view`, whole.subarray(100, 400), 60);
    expect((await connection.get(`${prefix}:view`))!.equals(whole.subarray(100, 400))).toBe(true);
  });

  it('reports Redis errors for the command that caused them', async () => {
    await redis.hset(`${prefix}:hash`, 'f', 'v');
    await expect(connection.get(`${prefix}:hash`)).rejects.toThrow(/WRONGTYPE/);
    await expect(connection.set(`${prefix}:bad`, Buffer.from('x'), 0.5)).resolves.toBeUndefined(); // TTL rounded up to 1 s, never 0 (an error)
    expect(connection.healthy).toBe(true);
  });
});
