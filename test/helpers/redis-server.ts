import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

export { freePort, OwnRedis } from './own-redis.ts';

// Suites that start their own redis-server (./own-redis.ts) declare it here: skipped with what to
// install where redis-server is missing, failing in CI.

export const redisServerAvailable = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** `describe` for suites that start their own redis-server: skipped with what to install, failing in CI. */
export function describeWithRedisServer(name: string, body: () => void): void {
  if (redisServerAvailable) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error('redis-server is not installed (apt-get install redis-server)');
    });
    return;
  }
  console.warn(`[skip] "${name}": needs redis-server on PATH (apt-get install redis-server)`);
  describe.skip(name, body);
}

