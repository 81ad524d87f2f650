// Every connection (ioredis, BullMQ's, the minimal chunk client) takes the Redis URLs operators
// use: an IPv6 literal, a password (requirepass), an ACL user with its own password, a database
// number. Each URL runs a video through a real producer and worker on a redis-server of our own
// listening on ::1, with exact frame counts; a wrong password fails with a clear message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, getVideoStatus, submitVideo, waitForVideos } from '../../src/pipeline/index.ts';
import { startProducer } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker } from '../../src/worker/index.ts';
import { bin } from '../helpers/cli-processes.ts';
import { describeWithRedisServer, OwnRedis } from '../helpers/redis-server.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-redis-urls-'));

describeWithRedisServer('Redis URLs: IPv6, password, ACL user, database', () => {
  let redis: OwnRedis;
  let video: string;

  beforeAll(async () => {
    // The default user with a password (as requirepass sets it) and an ACL user of its own.
    const acl = path.join(dir, 'users.acl');
    writeFileSync(acl, 'user default on >default-secret-pass ~* &* +@all\nuser fer on >fer-user-pass ~* &* +@all\n');
    redis = await OwnRedis.start({ bind: '::1', args: ['--aclfile', acl] });
    video = generateTestVideo(path.join(dir, 'clip.mp4'), { seconds: 2, width: 64, height: 48 });
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [what, credentials, db] of [
    ['password (default user)', ':default-secret-pass@', ''],
    ['ACL user and password', 'fer:fer-user-pass@', ''],
    ['ACL user, database 3', 'fer:fer-user-pass@', '/3'],
  ] as const) {
    it(`redis://${credentials.replace(/:[^:@]*@$/, ':***@')}[::1]:PORT${db} — ${what}: a video through producer and worker, every frame counted once`, async () => {
      const url = `redis://${credentials}[::1]:${redis.port}${db}`;
      const pipeline = createPipeline({
        redisUrl: url,
        prefix: `urls-${db.slice(1) || '0'}-${credentials.length}`,
        config: loadConfig({}, { pipeline: { fps: 5, chunkFrames: 3 } }).pipeline,
      });
      const producer = startProducer(pipeline);
      const worker = startWorker(pipeline, { analyzer: new CostFreeAnalyzer({ maxBatchSize: 4 }) });
      try {
        const { videoId } = await submitVideo(pipeline, { path: video });
        const [status] = (await waitForVideos(pipeline, [videoId], { timeoutMs: 60_000, pollMs: 50 })).values();
        expect(status!.state, status!.error?.message).toBe('completed');
        expect((await getVideoStatus(pipeline, videoId))!.progress).toMatchObject({
          framesTotal: 10,
          framesDone: 10,
          framesFailed: 0,
        });
        if (db === '/3') expect(await pipeline.redis.call('CLIENT', 'INFO')).toMatch(/db=3/);
      } finally {
        await producer.close();
        await worker.close();
        await pipeline.close();
      }
    }, 90_000);
  }

  it('a wrong password: one line saying so, exit 4', () => {
    const run = spawnSync(process.execPath, [bin, 'status', 'some-id'], {
      env: { ...process.env, REDIS_URL: `redis://:not-the-password@[::1]:${redis.port}` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(4);
    expect(run.stderr.trim()).toBe(
      `fer-stream status: Redis at redis://:***@[::1]:${redis.port} refused the connection's credentials (WRONGPASS invalid username-password pair or user is disabled.): check the user and password in REDIS_URL`,
    );
  });
});
