import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import setupRedis from '../setup/global-redis.ts';
import { freePort } from '../helpers/own-redis.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { podman, PodmanService, runOk } from './podman.ts';
import { repoRoot } from '../helpers/cli-processes.ts';
import path from 'node:path';

// The suite's Redis fixture (test/setup/global-redis.ts) falls back to testcontainers when no Redis
// answers: run for real once, with nothing on the port it is given, Podman's socket as DOCKER_HOST
// and the local redis image — the container is started, used and removed.

describeWithTools('the Redis fixture without a Redis', ['podman (as root)'], () => {
  it('starts a Redis container through testcontainers, the suite uses it, and it is removed afterwards', async () => {
    await runOk(path.join(repoRoot, 'deploy/podman/base-images.sh'), [], { timeoutMs: 600_000 });
    const service = await PodmanService.start();
    const saved = { ...process.env };
    const containers = async () =>
      (await podman(['ps', '-a', '--filter', 'label=org.testcontainers', '--format', '{{.ID}}']))
        .split('\n')
        .filter(Boolean);
    const before = await containers();
    try {
      // Nothing listens on this port; no image registry is reachable, so no reaper (Ryuk) image either.
      process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
      process.env.DOCKER_HOST = service.dockerHost;
      process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
      let provided = '';
      const teardown = await setupRedis({ provide: (_key: string, value: string) => (provided = value) } as never);
      expect(provided).not.toBe(process.env.REDIS_URL);
      expect((await containers()).length).toBe(before.length + 1);
      const client = new Redis(provided, { maxRetriesPerRequest: 1 });
      await client.set('fer-testcontainers:probe', 'ok');
      expect(await client.get('fer-testcontainers:probe')).toBe('ok');
      client.disconnect();
      await teardown();
      expect(await containers()).toEqual(before);
    } finally {
      process.env = saved;
      await service.stop();
    }
  });
});
