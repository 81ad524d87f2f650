// Runs a long-lived pipeline service (worker, producer, serve) until SIGTERM/SIGINT: the pipeline,
// the metrics server, the service's own start and stop, and the two-signal stop. Shared by the
// service commands (it was inside commands/worker.ts, which the others imported).

import { loadConfig } from '../config/index.ts';
import { createLogger } from '../core/logger.ts';
import { abandonQueuedInference } from '../inference/backend/index.ts';
import { startProcessMetrics } from '../metrics/process.ts';
import { backlogExporter, heldFrames } from '../pipeline/index.ts';
import { EXIT_CODES } from './command.ts';
import { openPipeline } from './connect.ts';

export type Stop = (force: boolean) => Promise<void>;

/**
 * Runs a long-lived pipeline service until SIGTERM/SIGINT: metrics server, pipeline, the
 * service's own start/stop. A second signal stops without waiting for jobs in flight.
 */
export async function runService(
  options: {
    role: 'worker' | 'producer' | 'serve';
    config: ReturnType<typeof loadConfig>;
    logger: ReturnType<typeof createLogger>;
  },
  start: (
    pipeline: Awaited<ReturnType<typeof openPipeline>>,
    observer: NonNullable<Awaited<ReturnType<typeof startProcessMetrics>>['observer']>,
    metrics: Awaited<ReturnType<typeof startProcessMetrics>>,
  ) => Promise<Stop>,
): Promise<number> {
  const { config, logger } = options;
  const pipeline = await openPipeline(config, { waitWith: logger });
  const metrics = await startProcessMetrics(config.metrics, {
    role: options.role,
    logger,
    health: () => ({ ok: pipeline.redis.status === 'ready' }),
  });
  metrics.watchQueues(Object.values(pipeline.queues));
  metrics.watchHeldFrames(() => heldFrames(pipeline));
  metrics.watchBacklog(backlogExporter(pipeline));
  let stop: Stop;
  try {
    stop = await start(pipeline, metrics.observer, metrics);
  } catch (error) {
    await metrics.close();
    await pipeline.close();
    throw error;
  }
  const forced = await new Promise<boolean>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals === 1) {
        logger.info(
          { signal, deadlineMs: config.pipeline.stopTimeoutMs },
          'stopping: finishing jobs in flight (send it again to stop at once)',
        );
        void stop(false).then(
          () => resolve(false),
          () => resolve(false),
        );
        // A deadline a supervisor can rely on (Kubernetes' terminationGracePeriodSeconds is set above it).
        setTimeout(() => onSignal('SIGTERM'), config.pipeline.stopTimeoutMs).unref();
        return;
      }
      if (signals > 2) return;
      // At once: jobs in flight are abandoned and come back through the stall check (their
      // locks lapse within FER_LOCK_DURATION_MS); nothing is lost, some frames are redone.
      logger.info({ signal }, 'stopping now: jobs in flight will be picked up by other workers');
      void atMost(stop(true), 2000).then(
        () => resolve(true),
        () => resolve(true),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await atMost(Promise.all([metrics.close(), pipeline.close()]), forced ? 1000 : 5000);
  logger.info(forced ? 'stopped at once' : 'stopped');
  // Forced: work abandoned mid-batch may still hold timers and threads; leave without waiting for
  // them — but not while a session thread is inside onnxruntime, which aborts the process (exit
  // 134, "terminate called after throwing an instance of 'Napi::Error'"): queued runs are dropped
  // and the ones in progress end first (one batch; bounded, within the supervisor's grace period).
  if (forced) {
    await atMost(abandonQueuedInference('the worker is stopping at once'), FORCED_INFERENCE_WAIT_MS);
    await new Promise<never>(() => setImmediate(() => process.exit(EXIT_CODES.ok)));
  }
  return EXIT_CODES.ok;
}

/**
 * How long a forced stop waits for the inference runs in progress (FER_STOP_TIMEOUT_MS's 30 s + this stays inside
 * Kubernetes' 45 s).
 */
const FORCED_INFERENCE_WAIT_MS = 10_000;

/** Waits for `work`, but no longer than `ms` (the timer does not keep the process alive once `work` is done). */
function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}
