// Redis Cluster: three masters on loopback, our own redis-servers, joined by redis-cli. Videos run
// through a producer and two workers connected as cluster clients (ioredis's Cluster for the
// queues and records, the chunk client routed per master by slot). The frame chunks must be
// spread over every master while the run goes on, every video must complete with every frame
// counted exactly once, and the budget must come back to zero in every shard. Then a slot holding
// a chunk shard (its chunks and its budget accounting) is moved to another master mid-run
// (redis-cli --cluster reshard, MIGRATE underneath): MOVED/ASK redirections, nothing lost.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { ClusterChunkRouter } from '../../src/pipeline/cluster-chunks.ts';
import {
  createPipeline,
  getVideoStatus,
  redisMemory,
  submitVideo,
  waitForVideos,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { chunkKeysInRedis } from '../helpers/frame-accounting.ts';
import { redisCli, startCluster } from '../helpers/redis-cluster.ts';
import { describeWithRedisServer, type OwnRedis } from '../helpers/redis-server.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-cluster-'));

describeWithRedisServer('Redis Cluster with three masters', () => {
  const masters: OwnRedis[] = [];
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  const workers: WorkerHandle[] = [];

  beforeAll(async () => {
    masters.push(...(await startCluster({ masters: 3, nodeTimeoutMs: 2000 })));
    // A budget that fills (the producer waits on some shards) with small chunks: many chunks in
    // flight at once, on every shard.
    const config = loadConfig(
      {},
      { pipeline: { fps: 10, chunkFrames: 2, redisChunkShards: 6, redisFrameBudgetBytes: 6 * 4 * 64 * 48 * 3 } },
    );
    pipeline = createPipeline({
      redisUrl: 'redis://127.0.0.1:6379',
      cluster: { nodes: [{ host: '127.0.0.1', port: masters[0]!.port }] },
      prefix: 'cluster-test',
      config: config.pipeline,
    });
    producer = startProducer(pipeline);
    for (let i = 0; i < 2; i++)
      workers.push(
        startWorker(pipeline, {
          analyzer: new CostFreeAnalyzer({ batchDelayMs: 30, maxBatchSize: 2 }),
          concurrency: 2,
        }),
      );
  }, 60_000);

  afterAll(async () => {
    await producer?.close(true);
    for (const w of workers) await w.close(true);
    await pipeline?.close();
    for (const m of masters) await m.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const submit = async (name: string, count: number, seconds: number) => {
    const videos: Array<{ videoId: string; frames: number }> = [];
    for (let i = 0; i < count; i++) {
      const file = generateTestVideo(path.join(dir, `${name}-${i}.mp4`), { seconds, width: 64, height: 48 });
      videos.push({ videoId: (await submitVideo(pipeline, { path: file })).videoId, frames: seconds * 10 });
    }
    return videos;
  };

  it('the chunks are on every master during the run; every frame is counted once and the budget comes back', async () => {
    // Every key of one script shares a slot: the records and the queues sit under one hash tag.
    const metaSlot = calculateSlot(pipeline.keys.video('x'));
    for (const key of [
      pipeline.keys.videoFrames('x'),
      pipeline.keys.activeVideos,
      pipeline.keys.videoIndex,
      `${pipeline.keys.bullPrefix}:frames:wait`,
    ])
      expect(calculateSlot(key)).toBe(metaSlot);
    for (const shard of pipeline.keys.chunkShards)
      expect(
        new Set([shard.heldChunks, shard.heldBytes, shard.heldFrames, `${shard.chunkPrefix('x')}0`].map(calculateSlot))
          .size,
      ).toBe(1);

    expect(pipeline.chunkConnection()?.constructor.name).toBe('ClusterChunkRouter');
    const videos = await submit('spread', 4, 4);
    const serversSeen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const { server } of await chunkKeysInRedis(pipeline)) serversSeen.add(server);
        await sleep(20);
      }
    })();
    const statuses = await waitForVideos(
      pipeline,
      videos.map((v) => v.videoId),
      { timeoutMs: 120_000, pollMs: 200 },
    );
    sampling = false;
    await sampler;
    expect([...statuses.values()].map((s) => s.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect([...serversSeen].sort()).toEqual(masters.map((m) => `127.0.0.1:${m.port}`).sort());
    const { analysed, failed } = await expectExactAccounting(pipeline, videos);
    expect({ analysed, failed }).toEqual({ analysed: 160, failed: 0 });
    // How full Redis is (the metrics' read): one figure per master, each from that master.
    const memory = await redisMemory(pipeline);
    expect(memory.map((m) => m.node).sort()).toEqual(masters.map((m) => `127.0.0.1:${m.port}`).sort());
    for (const m of memory) expect(m.usedBytes).toBeGreaterThan(1e5);
  }, 180_000);

  it('a slot holding a chunk shard moves to another master mid-run: every frame is counted once', async () => {
    const nodes = (port: number) => String(redisCli('-p', String(port), 'cluster', 'nodes'));
    const idOf = (port: number) =>
      nodes(port)
        .split('\n')
        .find((line) => line.includes(`127.0.0.1:${port}@`))!
        .split(' ')[0]!;
    // The first shard's slot, and the master that owns it (slots are split evenly from 0).
    const slot = calculateSlot(pipeline.keys.chunkShards[0]!.heldChunks);
    const from = masters[0]!;
    const to = masters[1]!;
    const videos = await submit('reshard', 4, 6);
    for (let waited = 0; waited < 30_000; waited += 50) {
      const done = (await Promise.all(videos.map((v) => getVideoStatus(pipeline, v.videoId)))).reduce(
        (n, s) => n + (s?.progress.framesDone ?? 0),
        0,
      );
      if (done >= 20) break;
      await sleep(50);
    }
    // Moves slots 0..slot (redis-cli takes the lowest first), keys and all, while chunks are written and read.
    const router = pipeline.chunkConnection() as ClusterChunkRouter;
    const redirectedBefore = router.redirected;
    redisCli(
      '--cluster',
      'reshard',
      `127.0.0.1:${from.port}`,
      '--cluster-from',
      idOf(from.port),
      '--cluster-to',
      idOf(to.port),
      '--cluster-slots',
      String(slot + 1),
      '--cluster-yes',
    );
    const doneAtMove = (await Promise.all(videos.map((v) => getVideoStatus(pipeline, v.videoId)))).reduce(
      (n, s) => n + (s?.progress.framesDone ?? 0),
      0,
    );
    expect(doneAtMove).toBeLessThan(240);
    const owner = new Redis({ port: to.port });
    const slots = (await owner.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    expect(slots.some(([start, end, [, port]]) => port === to.port && start <= slot && slot <= end)).toBe(true);
    owner.disconnect();
    const statuses = await waitForVideos(
      pipeline,
      videos.map((v) => v.videoId),
      { timeoutMs: 120_000, pollMs: 200 },
    );
    expect([...statuses.values()].map((s) => s.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const { analysed, failed } = await expectExactAccounting(pipeline, videos);
    expect({ analysed, failed }).toEqual({ analysed: 240, failed: 0 });
    // The chunk client met the moved slot and was redirected (then learnt the new slot map).
    expect(router.redirected).toBeGreaterThan(redirectedBefore);
    console.log(
      `[cluster] slot ${slot} moved with ${doneAtMove}/240 frames done; ${router.redirected - redirectedBefore} chunk commands redirected`,
    );
  }, 180_000);
});
