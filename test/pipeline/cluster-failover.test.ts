// Redis Cluster failover: three masters, each with a replica, on loopback. Videos run through a
// producer and two workers; mid-run one master is killed (-9) — once one holding only chunk shards,
// once the one holding the records' and queues' slot (and shards); the cluster promotes its
// replica, and every connection — ioredis's Cluster for the queues and records, the chunk client
// per master — finds the new owner of the slots. Every video completes and every frame is counted
// exactly once (analysed, or failed with a reason where a write the dead master had not replicated
// was lost): nothing is left waiting.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, getVideoStatus, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { expectExactAccounting } from '../helpers/accounting.ts';
import { redisCli, startCluster } from '../helpers/redis-cluster.ts';
import { describeWithRedisServer, type OwnRedis } from '../helpers/redis-server.ts';
import { generateTestVideo } from '../helpers/videos.ts';

interface NodeLine {
  readonly port: number;
  readonly master: boolean;
  readonly slots: Array<[number, number]>;
}
function clusterNodes(port: number): NodeLine[] {
  return redisCli('-p', String(port), 'cluster', 'nodes')
    .trim()
    .split('\n')
    .map((line) => {
      const parts = line.split(' ');
      const slots = parts
        .slice(8)
        .filter((s) => /^\d+(-\d+)?$/.test(s))
        .map((s) => s.split('-').map(Number) as [number, number])
        .map(([a, b]) => [a, b ?? a] as [number, number]);
      return {
        port: Number(parts[1]!.split(':')[1]!.split('@')[0]),
        master: parts[2]!.includes('master') && !parts[2]!.includes('fail'),
        slots,
      };
    });
}

function failoverSuite(victimHolds: 'chunk shards only' | 'the records and queues'): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-cluster-failover-'));
  describeWithRedisServer(`Redis Cluster failover mid-run: the master holding ${victimHolds} is killed`, () => {
    const nodes: OwnRedis[] = [];
    let pipeline: Pipeline;
    let producer: ProducerHandle;
    const workers: WorkerHandle[] = [];

    beforeAll(async () => {
      nodes.push(...(await startCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 })));
      const config = loadConfig(
        {},
        {
          pipeline: {
            fps: 10,
            chunkFrames: 3,
            redisChunkShards: 6,
            lockDurationMs: 4000,
            stalledIntervalMs: 2000,
            recoveryIntervalMs: 1000,
            videoStallSeconds: 6,
            frameLeaseSeconds: 5,
          },
        },
      );
      pipeline = createPipeline({
        redisUrl: 'redis://127.0.0.1:6379',
        cluster: { nodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) },
        prefix: 'cluster-failover',
        config: config.pipeline,
      });
      producer = startProducer(pipeline);
      for (let i = 0; i < 2; i++)
        workers.push(
          startWorker(pipeline, {
            analyzer: new CostFreeAnalyzer({ batchDelayMs: 60, maxBatchSize: 3 }),
            concurrency: 2,
          }),
        );
    }, 90_000);

    afterAll(async () => {
      await producer?.close(true);
      for (const w of workers) await w.close(true);
      await pipeline?.close();
      for (const n of nodes) await n.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a master is killed, its replica promoted, every video completes with every frame counted once', async () => {
      const videos: Array<{ videoId: string; frames: number }> = [];
      for (let i = 0; i < 4; i++) {
        const file = generateTestVideo(path.join(dir, `v${i}.mp4`), { seconds: 5, width: 64, height: 48 });
        videos.push({ videoId: (await submitVideo(pipeline, { path: file })).videoId, frames: 50 });
      }
      const metaSlot = calculateSlot(pipeline.keys.video('x'));
      const masters = clusterNodes(nodes[0]!.port).filter((n) => n.master && n.slots.length > 0);
      const holdsMeta = (m: NodeLine) => m.slots.some(([a, b]) => a <= metaSlot && metaSlot <= b);
      const victim = masters.find((m) => (victimHolds === 'the records and queues' ? holdsMeta(m) : !holdsMeta(m)))!;
      let doneAtKill = 0;
      for (let waited = 0; waited < 30_000; waited += 100) {
        doneAtKill = (await Promise.all(videos.map((v) => getVideoStatus(pipeline, v.videoId)))).reduce(
          (n, s) => n + (s?.progress.framesDone ?? 0),
          0,
        );
        if (doneAtKill >= 30) break;
        await sleep(100);
      }
      expect(doneAtKill).toBeLessThan(200);
      await nodes.find((n) => n.port === victim.port)!.crash();
      const statuses = await waitForVideos(
        pipeline,
        videos.map((v) => v.videoId),
        { timeoutMs: 120_000, pollMs: 250 },
      );
      expect([...statuses.values()].map((s) => s.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
      // The victim's slots belong to its former replica now.
      const survivor = nodes.find((n) => n.port !== victim.port)!;
      const owners = clusterNodes(survivor.port).filter((n) => n.master && n.slots.length > 0);
      expect(owners.map((o) => o.port)).not.toContain(victim.port);
      expect(owners).toHaveLength(3);
      await (pipeline.redis as unknown as { refreshSlotsCache(cb?: () => void): void }).refreshSlotsCache?.();
      await sleep(500);
      const { analysed, failed } = await expectExactAccounting(pipeline, videos);
      expect(analysed + failed).toBe(200);
      console.log(
        `[cluster] master holding ${victimHolds} killed at ${doneAtKill}/200 frames: ${analysed} frames analysed, ${failed} recorded as failed (writes it had not replicated)`,
      );
    }, 180_000);
  });
}

failoverSuite('chunk shards only');
failoverSuite('the records and queues');
