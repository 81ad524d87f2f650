// Webhooks end to end: videos submitted over the API with a callbackUrl, through a real producer,
// worker and Redis; a receiver on loopback answers 500 to the first attempt of every delivery and
// 200 after. Each video's receiver sees exactly one event accepted (one delivery id, retried once),
// the right event (video.completed / video.failed), signed with HMAC-SHA256 over "<t>.<body>";
// the video's status shows the delivery and its attempts. A callback to a private address is
// refused when FER_WEBHOOK_ALLOW_PRIVATE is off.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createMetricsObserver } from '../../src/metrics/observer.ts';
import { createMetricsRegistry, type Registry } from '../../src/metrics/registry.ts';
import { createPipeline, getVideoStatus, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const SECRET = 'test-webhook-secret-0123456789';
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-webhooks-'));
const open = testPrefix(`${import.meta.url}-open`);
const guarded = testPrefix(`${import.meta.url}-guarded`);

interface Received {
  readonly delivery: string;
  readonly event: string;
  readonly signature: string;
  readonly body: string;
  readonly answered: number;
}
const received: Received[] = [];
let receiver: Server;
let receiverUrl: string;

function start(
  prefix: string,
  allowPrivate: boolean,
): { pipeline: Pipeline; registry: Registry; producer: ProducerHandle; worker: WorkerHandle } {
  const config = loadConfig(
    {},
    {
      pipeline: {
        fps: 4,
        webhookSecret: SECRET,
        webhookBackoffMs: 100,
        webhookAttempts: allowPrivate ? 4 : 1,
        webhookAllowPrivate: allowPrivate,
      },
    },
  );
  const pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
  // Its worker reports to a Prometheus registry of its own (ferstream_webhook_attempts_total).
  const registry = createMetricsRegistry();
  return {
    pipeline,
    registry,
    producer: startProducer(pipeline),
    worker: startWorker(pipeline, {
      analyzer: new CostFreeAnalyzer({ maxBatchSize: 8 }),
      observer: createMetricsObserver(registry),
    }),
  };
}

let main: ReturnType<typeof start>;
let app: FastifyInstance;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      const delivery = String(request.headers['x-fer-delivery']);
      // The first attempt of every delivery fails.
      const answered = received.some((r) => r.delivery === delivery) ? 200 : 500;
      received.push({
        delivery,
        event: String(request.headers['x-fer-event']),
        signature: String(request.headers['x-fer-signature']),
        body,
        answered,
      });
      response.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/fer`;
  main = start(open.prefix, true);
  app = await buildApiServer({
    config: { uploadDir: path.join(dir, 'uploads'), inputDir: dir, maxUploadBytes: 1 << 20, maxJsonBytes: 4096 },
    service: createPipelineVideoService(main.pipeline),
  });
});

afterAll(async () => {
  await app?.close();
  for (const p of [main]) {
    await p?.producer.close();
    await p?.worker.close();
    await p?.pipeline.close();
  }
  receiver?.close();
  await open.cleanup();
  await guarded.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** ferstream_webhook_attempts_total by "target outcome". */
async function webhookAttempts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('ferstream_webhook_attempts_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.target} ${v.labels.outcome}`, v.value]));
}

describe('webhooks', () => {
  it('one signed event per video reaches the receiver, retried after its first 500; the status shows the delivery', async () => {
    generateTestVideo(path.join(dir, 'good.mp4'), { seconds: 2, width: 64, height: 48 });
    writeFileSync(path.join(dir, 'bad.mp4'), 'not a video at all');
    const submit = async (file: string) => {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/videos',
        payload: { path: file, callbackUrl: receiverUrl },
      });
      expect(r.statusCode, r.body).toBe(202);
      return r.json().id as string;
    };
    const [good, bad] = [await submit('good.mp4'), await submit('bad.mp4')];
    expect(
      (await app.inject({ method: 'POST', url: '/v1/videos', payload: { path: 'good.mp4', callbackUrl: 'ftp://x/y' } }))
        .statusCode,
    ).toBe(400);
    await waitForVideos(main.pipeline, [good, bad], { timeoutMs: 60_000, pollMs: 50 });

    for (let waited = 0; waited < 20_000; waited += 100) {
      const statuses = await Promise.all([good, bad].map((id) => getVideoStatus(main.pipeline, id)));
      if (statuses.every((s) => s!.webhooks[0]?.state === 'delivered')) break;
      await sleep(100);
    }
    for (const [id, event] of [
      [good, 'video.completed'],
      [bad, 'video.failed'],
    ] as const) {
      const mine = received.filter((r) => JSON.parse(r.body).videoId === id);
      // One delivery id, tried twice: 500 then 200.
      expect(new Set(mine.map((r) => r.delivery)).size, id).toBe(1);
      expect(mine.map((r) => r.answered)).toEqual([500, 200]);
      expect(mine.every((r) => r.event === event)).toBe(true);
      for (const r of mine) {
        const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.signature)!;
        expect(createHmac('sha256', SECRET).update(`${t}.${r.body}`).digest('hex')).toBe(v1);
        expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(120);
      }
      const body = JSON.parse(mine[1]!.body);
      expect(body).toMatchObject({
        event,
        videoId: id,
        state: event === 'video.completed' ? 'completed' : 'failed',
        links: { results: `/v1/videos/${id}/results` },
      });
    }
    expect(JSON.parse(received.find((r) => JSON.parse(r.body).videoId === bad)!.body).error.code).toBe('invalid_video');
    const shown = (await app.inject({ method: 'GET', url: `/v1/videos/${good}` })).json();
    expect(shown.webhooks).toEqual([
      { target: 'callback', url: receiverUrl, state: 'delivered', attempts: 2, deliveredAt: expect.any(String) },
    ]);
    // Two deliveries, each a 500 then a 200.
    expect(await webhookAttempts(main.registry)).toEqual({
      'callback delivered': 2,
      'callback retrying': 2,
      'callback failed': 0,
      'configured delivered': 0,
      'configured retrying': 0,
      'configured failed': 0,
    });
  }, 90_000);

  it('a callback to a private address is refused unless FER_WEBHOOK_ALLOW_PRIVATE', async () => {
    const guardedPipeline = start(guarded.prefix, false);
    try {
      const before = received.length;
      const { videoId } = await submitVideo(guardedPipeline.pipeline, {
        path: path.join(dir, 'good.mp4'),
        callbackUrl: receiverUrl,
      });
      await waitForVideos(guardedPipeline.pipeline, [videoId], { timeoutMs: 60_000, pollMs: 50 });
      let delivery;
      for (let waited = 0; waited < 10_000; waited += 100) {
        delivery = (await getVideoStatus(guardedPipeline.pipeline, videoId))!.webhooks[0];
        if (delivery?.state === 'failed') break;
        await sleep(100);
      }
      expect(delivery).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(/127\.0\.0\.1.*private address.*refused/),
      });
      expect(received.length).toBe(before);
      expect((await webhookAttempts(guardedPipeline.registry))['callback failed']).toBe(1);
    } finally {
      await guardedPipeline.producer.close();
      await guardedPipeline.worker.close();
      await guardedPipeline.pipeline.close();
    }
  }, 90_000);
});
