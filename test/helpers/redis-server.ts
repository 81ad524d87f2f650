import { spawnSync } from 'node:child_process';
import { describeRequiring } from './shared.ts';

export { freePort, OwnRedis } from './own-redis.ts';

// Suites that start their own redis-server (./own-redis.ts) declare it here: skipped with what to
// install where redis-server is missing, failing in CI.

export const redisServerAvailable = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** `describe` for suites that start their own redis-server: skipped with what to install, failing in CI. */
export function describeWithRedisServer(name: string, body: () => void): void {
  describeRequiring(name, body, {
    available: redisServerAvailable,
    failWhenMissing: process.env.CI === 'true',
    missing: 'redis-server is not installed (apt-get install redis-server)',
    skip: 'needs redis-server on PATH (apt-get install redis-server)',
  });
}
