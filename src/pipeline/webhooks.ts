// Webhooks, the pipeline's side: when a video ends (completed or failed), one delivery job per
// endpoint — the submission's callbackUrl and/or the operator's FER_WEBHOOK_URL — goes on the
// `webhooks` queue (retried with backoff by BullMQ; src/worker/webhooks.ts delivers), and each
// endpoint's delivery state is kept beside the video record for its status.

import { createHash } from 'node:crypto';
import type { Pipeline, WebhookJobData } from './context.ts';

export interface WebhookDelivery {
  readonly target: WebhookJobData['target'];
  /** Shown for the submission's own callback; the operator's endpoint is not revealed to clients. */
  readonly url?: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastError?: string;
  readonly deliveredAt?: string;
}

/** Queues the end-of-video event for every endpoint of the video (none: nothing happens). */
export async function enqueueWebhooks(pipeline: Pipeline, videoId: string, event: WebhookJobData['event']): Promise<void> {
  const { redis, keys, config, queues } = pipeline;
  const callbackUrl = await redis.hget(keys.video(videoId), 'callbackUrl');
  const targets: Array<Omit<WebhookJobData, 'videoId' | 'event'>> = [
    ...(callbackUrl ? [{ target: 'callback' as const, url: callbackUrl }] : []),
    ...(config.webhookUrl ? [{ target: 'configured' as const, url: config.webhookUrl }] : []),
  ];
  for (const { target, url } of targets) {
    await recordDelivery(pipeline, videoId, { target, ...(target === 'callback' ? { url } : {}), state: 'pending', attempts: 0 });
    await queues.webhooks.add(
      'deliver',
      { videoId, event, target, url },
      {
        // One event per video and endpoint, whoever (worker, sweep) ends the video.
        jobId: `${videoId}.${event}.${createHash('sha256').update(url).digest('hex').slice(0, 12)}`,
        attempts: config.webhookAttempts,
        backoff: { type: 'exponential', delay: config.webhookBackoffMs },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }
}

export async function recordDelivery(pipeline: Pipeline, videoId: string, delivery: WebhookDelivery): Promise<void> {
  const key = pipeline.keys.videoWebhooks(videoId);
  await pipeline.redis.multi().hset(key, delivery.target, JSON.stringify(delivery)).expire(key, pipeline.config.resultTtlSeconds).exec();
}

export async function webhookDeliveries(pipeline: Pipeline, videoId: string): Promise<WebhookDelivery[]> {
  const entries = await pipeline.redis.hgetall(pipeline.keys.videoWebhooks(videoId));
  return Object.values(entries).map((json) => JSON.parse(json) as WebhookDelivery);
}
