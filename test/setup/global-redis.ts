import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';

// Gives the whole suite a Redis: REDIS_URL when set and reachable (default redis://127.0.0.1:6379),
// otherwise testcontainers' Redis module when a Docker engine is present, otherwise a clear failure.
// Test files read it through `inject('redisUrl')` (see test/helpers/redis.ts).

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export const REDIS_IMAGE = 'redis:7.4-alpine';

async function reachable(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  // The refusal is the answer here (connect() rejects with it), not an unhandled error to print.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await reachable(url)) {
    project.provide('redisUrl', url);
    return async () => {};
  }
  try {
    const { RedisContainer } = await import('@testcontainers/redis');
    // The Redis image docker-compose.yml runs (deploy/podman/base-images.sh makes it where no registry is reachable).
    const container = await new RedisContainer(REDIS_IMAGE).start();
    project.provide('redisUrl', container.getConnectionUrl());
    return async () => {
      await container.stop();
    };
  } catch (error) {
    throw new Error(
      `No Redis for the tests: ${url} is not reachable and no Docker engine could start one (${(error as Error).message}). ` +
        'Start Redis locally (redis-server) or set REDIS_URL to a reachable server.',
      { cause: error },
    );
  }
}
