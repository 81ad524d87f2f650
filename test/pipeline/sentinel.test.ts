// Redis Sentinel: a master, a replica and three sentinels on loopback, all our own redis-servers.
// Videos run through a producer and two workers connected through the sentinels; the master is
// killed (-9) mid-run, the sentinels promote the replica, and every connection — ioredis, BullMQ's
// and the minimal chunk client — finds the new master. Every video completes, and every frame is
// counted exactly once (analysed, or failed with a reason where a write the dead master had not
// yet replicated was lost): nothing is left waiting.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, getVideoStatus, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { describeWithRedisServer, freePort, OwnRedis } from '../helpers/redis-server.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-sentinel-'));

describeWithRedisServer('Redis Sentinel failover mid-run', () => {
  let master: OwnRedis;
  let replica: OwnRedis;
  const sentinels: ChildProcess[] = [];
  const sentinelPorts: number[] = [];
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  const workers: WorkerHandle[] = [];

  beforeAll(async () => {
    master = await OwnRedis.start();
    replica = await OwnRedis.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor mymaster 127.0.0.1 ${master.port} 2`,
          'sentinel down-after-milliseconds mymaster 1000',
          'sentinel failover-timeout mymaster 5000',
          'sentinel parallel-syncs mymaster 1',
          '',
        ].join('\n'),
      );
      sentinels.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
      sentinelPorts.push(port);
    }
    // The replica has synced (Redis 7 waits 5 s before a diskless full sync) and the sentinels know
    // it, before anything depends on them.
    const replicaClient = new Redis({ port: replica.port });
    for (let waited = 0; waited < 30_000; waited += 200) {
      if (/master_link_status:up/.test(await replicaClient.info('replication'))) break;
      await sleep(200);
    }
    replicaClient.disconnect();
    const probe = new Redis({ port: sentinelPorts[0], lazyConnect: true, maxRetriesPerRequest: 1 });
    for (let waited = 0; waited < 20_000; waited += 200) {
      const replicas = (await probe.call('SENTINEL', 'REPLICAS', 'mymaster').catch(() => [])) as unknown[];
      if (replicas.length > 0) break;
      await sleep(200);
    }
    probe.disconnect();

    const config = loadConfig(
      {},
      {
        pipeline: {
          fps: 5,
          chunkFrames: 3,
          lockDurationMs: 4000,
          stalledIntervalMs: 2000,
          recoveryIntervalMs: 1000,
          videoStallSeconds: 6,
          frameLeaseSeconds: 5,
        },
      },
    );
    pipeline = createPipeline({
      redisUrl: 'redis://ignored-with-sentinel:6379',
      sentinel: { sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: 'mymaster' },
      prefix: 'sentinel-test',
      config: config.pipeline,
    });
    producer = startProducer(pipeline);
    for (let i = 0; i < 2; i++)
      workers.push(
        startWorker(pipeline, {
          analyzer: new CostFreeAnalyzer({ batchDelayMs: 80, maxBatchSize: 3 }),
          concurrency: 2,
        }),
      );
  }, 60_000);

  afterAll(async () => {
    await producer?.close(true);
    for (const w of workers) await w.close(true);
    await pipeline?.close();
    for (const s of sentinels) s.kill('SIGKILL');
    await replica?.stop();
    await master?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the master is killed, the replica promoted, every video completes with every frame counted once', async () => {
    const videos: Array<{ videoId: string; frames: number }> = [];
    for (let i = 0; i < 4; i++) {
      const file = generateTestVideo(path.join(dir, `v${i}.mp4`), { seconds: 4, width: 64, height: 48 });
      videos.push({ videoId: (await submitVideo(pipeline, { path: file })).videoId, frames: 20 });
    }
    // Mid-run: some frames done, most not.
    for (let waited = 0; waited < 30_000; waited += 100) {
      const done = (await Promise.all(videos.map((v) => getVideoStatus(pipeline, v.videoId)))).reduce(
        (n, s) => n + (s?.progress.framesDone ?? 0),
        0,
      );
      if (done >= 10) break;
      await sleep(100);
    }
    await master.crash();
    const statuses = await waitForVideos(
      pipeline,
      videos.map((v) => v.videoId),
      { timeoutMs: 120_000, pollMs: 250 },
    );
    expect([...statuses.values()].map((s) => s.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // The replica is the master now, and it holds everything.
    const promoted = new Redis({ port: replica.port });
    expect(await promoted.call('ROLE').then((role: unknown) => (role as string[])[0])).toBe('master');
    promoted.disconnect();
    const { analysed, failed } = await expectExactAccounting(pipeline, videos);
    expect(analysed + failed).toBe(80);
    console.log(
      `[sentinel] after the failover: ${analysed} frames analysed, ${failed} recorded as failed (writes the old master had not replicated)`,
    );
  }, 180_000);
});
