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

/** The video's endpoints: its submission's callbackUrl and the operator's FER_WEBHOOK_URL (either may be absent). */
async function webhookTargets(
  pipeline: Pipeline,
  videoId: string,
): Promise<Array<Omit<WebhookJobData, 'videoId' | 'event'>>> {
  const callbackUrl = await pipeline.redis.hget(pipeline.keys.video(videoId), 'callbackUrl');
  return [
    ...(callbackUrl ? [{ target: 'callback' as const, url: callbackUrl }] : []),
    ...(pipeline.config.webhookUrl ? [{ target: 'configured' as const, url: pipeline.config.webhookUrl }] : []),
  ];
}

/** One job per video, event and endpoint, whoever (worker, sweep) ends the video. */
function webhookJobId(videoId: string, event: WebhookJobData['event'], url: string): string {
  return `${videoId}.${event}.${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

/** Queues the end-of-video event for every endpoint of the video (none: nothing happens). */
export async function enqueueWebhooks(
  pipeline: Pipeline,
  videoId: string,
  event: WebhookJobData['event'],
): Promise<void> {
  const { config, queues } = pipeline;
  for (const { target, url } of await webhookTargets(pipeline, videoId)) {
    await recordDelivery(pipeline, videoId, {
      target,
      ...(target === 'callback' ? { url } : {}),
      state: 'pending',
      attempts: 0,
    });
    await queues.webhooks.add(
      'deliver',
      { videoId, event, target, url },
      {
        jobId: webhookJobId(videoId, event, url),
        attempts: config.webhookAttempts,
        backoff: { type: 'exponential', delay: config.webhookBackoffMs },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }
}

/** Drops the video's queued deliveries (it is being deleted: nobody is to be told). Call while its record exists. */
export async function removeWebhooks(pipeline: Pipeline, videoId: string): Promise<void> {
  const targets = await webhookTargets(pipeline, videoId);
  const events: Array<WebhookJobData['event']> = ['video.completed', 'video.failed'];
  // A job a worker is delivering right now cannot be removed: it finds the video gone and stops.
  await Promise.allSettled(
    targets.flatMap(({ url }) =>
      events.map((event) => pipeline.queues.webhooks.remove(webhookJobId(videoId, event, url))),
    ),
  );
}

export async function recordDelivery(pipeline: Pipeline, videoId: string, delivery: WebhookDelivery): Promise<void> {
  const key = pipeline.keys.videoWebhooks(videoId);
  await pipeline.redis
    .multi()
    .hset(key, delivery.target, JSON.stringify(delivery))
    .expire(key, pipeline.config.resultTtlSeconds)
    .exec();
}

export async function webhookDeliveries(pipeline: Pipeline, videoId: string): Promise<WebhookDelivery[]> {
  const entries = await pipeline.redis.hgetall(pipeline.keys.videoWebhooks(videoId));
  return Object.values(entries).map((json) => JSON.parse(json) as WebhookDelivery);
}
