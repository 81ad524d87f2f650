// Webhook delivery (the `webhooks` queue, filled when videos end: src/pipeline/webhooks.ts). Each
// event is POSTed as JSON, signed when FER_WEBHOOK_SECRET is set:
//   x-fer-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// (the timestamp inside the signed text lets receivers refuse replays), with x-fer-event and
// x-fer-delivery (stable across retries: receivers can deduplicate). Anything but a 2xx answer
// (or no answer within FER_WEBHOOK_TIMEOUT_MS) is retried with exponential backoff up to
// FER_WEBHOOK_ATTEMPTS; each attempt's outcome is recorded for the video's status. A
// submission's callbackUrl may not reach loopback, private or link-local addresses unless
// FER_WEBHOOK_ALLOW_PRIVATE (no request forgery into the cluster through our workers), checked on
// the address connected to (webhook-post.ts).

import { createHmac } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import {
  getVideoStatus,
  QUEUE_NAMES,
  recordDelivery,
  reportQueueError,
  type Pipeline,
  type WebhookJobData,
} from '../pipeline/index.ts';
import { postWebhook } from './webhook-post.ts';

/** The signature header value for `body` at `unixSeconds`. */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

async function deliver(pipeline: Pipeline, job: Job<WebhookJobData>, observer?: PipelineObserver): Promise<void> {
  const { videoId, event, target, url } = job.data;
  const { config } = pipeline;
  const status = await getVideoStatus(pipeline, videoId);
  // Deleted meanwhile: nobody to tell about it.
  if (status === null) return;
  const body = JSON.stringify({
    event,
    videoId,
    name: status.name,
    state: status.state,
    submittedAt: status.submittedAt,
    completedAt: status.completedAt,
    progress: {
      framesTotal: status.progress.framesTotal,
      framesDone: status.progress.framesDone,
      framesFailed: status.progress.framesFailed,
    },
    error: status.error,
    links: { status: `/v1/videos/${videoId}`, results: `/v1/videos/${videoId}/results` },
  });
  const attempt = job.attemptsMade + 1;
  const shown = target === 'callback' ? { url } : {};
  let failure: string | undefined;
  try {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'fer-stream-webhook/1',
      'x-fer-event': event,
      'x-fer-delivery': String(job.id),
    };
    if (config.webhookSecret)
      headers['x-fer-signature'] = webhookSignature(config.webhookSecret, body, Math.floor(Date.now() / 1000));
    // The operator's own webhook (FER_WEBHOOK_URL) may be internal; a client's callbackUrl may not.
    const proxy = config.webhookProxy
      ? { url: new URL(config.webhookProxy), noProxy: config.webhookNoProxy }
      : undefined;
    const answer = await postWebhook(new URL(url), {
      headers,
      body,
      timeoutMs: config.webhookTimeoutMs,
      allowPrivate: target !== 'callback' || config.webhookAllowPrivate,
      proxy,
    });
    if (answer < 200 || answer >= 300) failure = `answered ${answer}`;
  } catch (error) {
    failure = (error as Error).message;
  }
  const final = attempt >= config.webhookAttempts;
  // Counted before the status says so: whoever reads both sees the count first.
  observer?.webhookAttempt?.({ target, outcome: failure === undefined ? 'delivered' : final ? 'failed' : 'retrying' });
  if (failure === undefined) {
    await recordDelivery(pipeline, videoId, {
      target,
      ...shown,
      state: 'delivered',
      attempts: attempt,
      deliveredAt: new Date().toISOString(),
    });
    return;
  }
  await recordDelivery(pipeline, videoId, {
    target,
    ...shown,
    state: final ? 'failed' : 'pending',
    attempts: attempt,
    lastError: failure,
  });
  throw new Error(failure);
}

/** The delivering BullMQ worker; run beside the frame workers. */
export function startWebhookDelivery(
  pipeline: Pipeline,
  log?: Logger,
  observer?: PipelineObserver,
): Worker<WebhookJobData> {
  const worker = new Worker<WebhookJobData>(QUEUE_NAMES.webhooks, (job) => deliver(pipeline, job, observer), {
    ...pipeline.workerOptions(),
    concurrency: 4,
  });
  worker.on('error', (error) => reportQueueError(log, 'webhooks', error));
  worker.on('failed', (job, error) =>
    log?.warn(
      {
        videoId: job?.data.videoId,
        event: job?.data.event,
        target: job?.data.target,
        attempt: job?.attemptsMade,
        reason: error.message,
      },
      'webhook delivery failed',
    ),
  );
  return worker;
}
