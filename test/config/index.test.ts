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

  it('rejects invalid knobs with one message naming each of them', () => {
    expect(() => loadConfig({ FER_MAX_BATCH_SIZE: '0', REDIS_URL: 'not a url' })).toThrow(/inference\.maxBatchSize.*|redisUrl/);
    expect(() => loadConfig({ FER_EXECUTION_PROVIDERS: 'tpu' })).toThrow(/executionProviders/);
  });
});
