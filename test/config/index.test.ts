import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';

describe('configuration', () => {
  it('applies defaults, then environment variables, then overrides', () => {
    const defaults = loadConfig({});
    expect(defaults.inference.maxBatchSize).toBe(8);
    expect(defaults.inference.executionProviders).toEqual(['cuda', 'cpu']);
    const fromEnv = loadConfig({ FER_MAX_BATCH_SIZE: '16', FER_EXECUTION_PROVIDERS: 'cpu' });
    expect(fromEnv.inference.maxBatchSize).toBe(16);
    expect(fromEnv.inference.executionProviders).toEqual(['cpu']);
    const overridden = loadConfig({ FER_MAX_BATCH_SIZE: '16' }, { inference: { maxBatchSize: 4 } });
    expect(overridden.inference.maxBatchSize).toBe(4);
  });

  it('takes FER_INTRA_OP_THREADS as auto (the default), 0 (onnxruntime decides) or a count', () => {
    expect(loadConfig({}).inference.intraOpThreads).toBe('auto');
    expect(loadConfig({ FER_INTRA_OP_THREADS: 'auto' }).inference.intraOpThreads).toBe('auto');
    expect(loadConfig({ FER_INTRA_OP_THREADS: '0' }).inference.intraOpThreads).toBe(0);
    expect(loadConfig({ FER_INTRA_OP_THREADS: '3' }).inference.intraOpThreads).toBe(3);
    expect(() => loadConfig({ FER_INTRA_OP_THREADS: 'all' })).toThrow(/intraOpThreads/);
    expect(() => loadConfig({ FER_INTRA_OP_THREADS: '-1' })).toThrow(/intraOpThreads/);
  });

  it('rejects invalid knobs with one message naming each of them', () => {
    expect(() => loadConfig({ FER_MAX_BATCH_SIZE: '0', REDIS_URL: 'not a url' })).toThrow(
      /inference\.maxBatchSize.*|redisUrl/,
    );
    expect(() => loadConfig({ FER_EXECUTION_PROVIDERS: 'tpu' })).toThrow(/executionProviders/);
  });

  it('takes a Redis Cluster as host:port,host:port and refuses it together with sentinels', () => {
    const config = loadConfig({ FER_REDIS_CLUSTER: '10.0.0.1:7000, [::1]:7001', FER_REDIS_CHUNK_SHARDS: '24' });
    expect(config.redisCluster).toBe('10.0.0.1:7000, [::1]:7001');
    expect(config.pipeline.redisChunkShards).toBe(24);
    expect(() => loadConfig({ FER_REDIS_CLUSTER: 'redis-0' })).toThrow(/redisCluster: expected host:port,host:port/);
    expect(() => loadConfig({ FER_REDIS_CLUSTER: 'a:7000', FER_REDIS_SENTINELS: 's:26379' })).toThrow(
      /FER_REDIS_CLUSTER and FER_REDIS_SENTINELS exclude each other/,
    );
  });
});
