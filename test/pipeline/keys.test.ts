import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { chunkShardTags, parseNodes, pipelineKeys } from '../../src/pipeline/index.ts';

describe('Redis key layout', () => {
  it('without a cluster: plain prefixed keys and one chunk shard', () => {
    const keys = pipelineKeys('fer');
    expect(keys.video('v1')).toBe('fer:video:v1');
    expect(keys.bullPrefix).toBe('fer:bull');
    expect(keys.chunkShards).toHaveLength(1);
    expect(keys.chunk('v1', 3)).toBe('fer:chunk:v1:3');
    expect(keys.shardOf('fer:chunk:v1:3')).toBe(keys.chunkShards[0]);
    expect(keys.chunkShards[0]!.heldBytes).toBe('fer:frames:held-bytes');
  });

  it('on a cluster: records and queues share one slot; each shard keeps its chunks and totals in one slot', () => {
    const keys = pipelineKeys('fer', { cluster: true, chunkShards: 16 });
    const meta = calculateSlot(keys.video('a'));
    for (const key of [
      keys.video('b'),
      keys.videoFrames('a'),
      keys.videoResult('a'),
      keys.videoWebhooks('a'),
      keys.videoIndex,
      keys.activeVideos,
      keys.recoveryLock,
      keys.uploads,
      `${keys.bullPrefix}:frames:wait`,
    ]) {
      expect(calculateSlot(key)).toBe(meta);
    }
    expect(keys.chunkShards).toHaveLength(16);
    for (const shard of keys.chunkShards) {
      const slot = calculateSlot(shard.heldChunks);
      expect([shard.heldBytes, shard.heldFrames, `${shard.chunkPrefix('a')}7`].map(calculateSlot)).toEqual([
        slot,
        slot,
        slot,
      ]);
    }
  });

  it('shard tags are evenly spaced over the slots, and consecutive chunks of a video go to consecutive shards', () => {
    const tags = chunkShardTags('fer', 12);
    tags.forEach((tag, shard) => expect(Math.floor((calculateSlot(tag) * 12) / 16384)).toBe(shard));
    // Deterministic: every process computes the same tags.
    expect(chunkShardTags('fer', 12)).toEqual(tags);
    const keys = pipelineKeys('fer', { cluster: true, chunkShards: 12 });
    const shards = Array.from({ length: 24 }, (_, sequence) =>
      keys.chunkShards.indexOf(keys.shardOf(keys.chunk('video-1', sequence))),
    );
    for (let i = 1; i < shards.length; i++) expect(shards[i]).toBe((shards[i - 1]! + 1) % 12);
    expect(() => keys.shardOf('fer:chunk:video-1:0')).toThrow(/not a chunk key/);
  });

  it('parses node lists, IPv6 included', () => {
    expect(parseNodes('10.0.0.1:7000, [::1]:7001,redis-2:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '::1', port: 7001 },
      { host: 'redis-2', port: 7002 },
    ]);
  });
});
