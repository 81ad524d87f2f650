// `fer-stream worker [--model DIR] [--concurrency N] [--producer]`: a long-running frame worker
// (and aggregator) for separate processes or machines sharing one Redis. SIGTERM/SIGINT stop it
// gracefully: no new jobs, jobs in flight finish, the model closes; a second signal forces it.

import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../core/logger.ts';
import { abandonQueuedInference, resolveIntraOpThreads } from '../../inference/backend/index.ts';
import { startProcessMetrics } from '../../metrics/process.ts';
import { backlogExporter, heldFrames } from '../../pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../producer/index.ts';
import { startWorker } from '../../worker/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';
import { applyNoDetect, NO_DETECT_OPTION, NO_DETECT_USAGE, trackingFor } from '../faces-options.ts';
import { createFrameAnalyzer, DEFAULT_MODEL, parseAnalyzerKind } from '../frame-analyzer.ts';

const worker: Command = {
  summary: 'Run a frame worker (inference and aggregation) against REDIS_URL',
  usage: [
    'Usage: fer-stream worker [--profile P] [--model DIR] [--concurrency N] [--producer] [--analyzer KIND]',
    '',
    '  --profile P      faces mode models: compact (BlazeFace + face-api, from npm), vit (detector +',
    '                   ViT) or auto (default FER_PROFILE: vit when installed, else compact; logged)',
    `  --model DIR      the expression model directory (default: the profile's); faces are still`,
    '                   detected first (whole frames only with --no-detect)',
    '  --concurrency N  frame chunks worked on at once (default FER_WORKER_CONCURRENCY)',
    '  --producer       also split submitted videos into frames in this process',
    '  --analyzer KIND  faces (default), whole-frame (= --no-detect) or cost-free (no model)',
    '  --batch-delay-ms N  with --analyzer cost-free: pretend each batch takes N ms (fault tests, benches)',
    NO_DETECT_USAGE,
    '',
    'Runs until SIGTERM/SIGINT, then finishes the jobs in flight and exits 0. LOG_LEVEL=debug',
    'logs every inference batch with the videos its frames came from.',
  ].join('\n'),
  async run(args) {
    const { values } = parseCommandArgs(args, {
      model: { type: 'string' },
      concurrency: { type: 'string' },
      producer: { type: 'boolean', default: false },
      analyzer: { type: 'string' },
      profile: { type: 'string' },
      'batch-delay-ms': { type: 'string' },
      ...NO_DETECT_OPTION,
    }, false);
    const batchDelayMs = values['batch-delay-ms'] === undefined ? undefined : Number(values['batch-delay-ms']);
    if (batchDelayMs !== undefined && !(Number.isInteger(batchDelayMs) && batchDelayMs >= 0)) throw new UsageError(`--batch-delay-ms must be an integer ≥ 0, got "${values['batch-delay-ms']}"`);
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) throw new UsageError(`--concurrency must be a positive integer, got "${values.concurrency}"`);
    const kind = applyNoDetect(parseAnalyzerKind(values.analyzer), values['no-detect']);
    const config = loadConfig();
    const logger = createLogger({ name: 'worker', level: config.logLevel });
    return runService({ role: 'worker', config, logger }, async (pipeline, observer, metrics) => {
      const onProfile = (c: { profile: string; reason: string; explicit: boolean }) =>
        c.explicit ? logger.info({ profile: c.profile }, `profile ${c.profile}`) : logger.warn({ profile: c.profile, reason: c.reason }, `profile ${c.profile} chosen automatically: ${c.reason}`);
      const analyzer = await createFrameAnalyzer({
        kind,
        config,
        profile: values.profile,
        onProfile,
        ...(values.model ? { modelDir: values.model } : {}),
        ...(batchDelayMs !== undefined ? { costFreeBatchDelayMs: batchDelayMs } : {}),
        logger,
        observer,
      });
      // ferstream_build_info: which model this worker runs and the provider it actually got.
      metrics.setBuildInfo({ model: analyzer.info.name, provider: analyzer.info.executionProvider ?? 'none' });
      if (analyzer.info.executionProvider) metrics.declareInference(analyzer.info.detector ? ['detect', 'classify'] : ['classify'], analyzer.info.executionProvider);
      const handle = startWorker(pipeline, { analyzer, observer, logger, finalizeOptions: trackingFor(analyzer, config), ...(concurrency ? { concurrency } : {}) });
      const producer: ProducerHandle | undefined = values.producer ? startProducer(pipeline, { observer, logger }) : undefined;
      // With a model: the thread count onnxruntime got, and why (auto: the usable CPUs), for whoever sizes workers.
      const intraOp = analyzer.info.executionProvider ? resolveIntraOpThreads(config.inference.intraOpThreads, config.inference.sessionThreads) : undefined;
      const threads = intraOp ? { intraOpThreads: intraOp.threads, intraOpThreadsWhy: intraOp.why } : {};
      logger.info({ analyzer: analyzer.info.name, variant: analyzer.info.variant, concurrency: concurrency ?? config.pipeline.workerConcurrency, producer: values.producer, ...threads }, 'worker started');
      return async (force) => {
        await Promise.all([producer?.close(force), handle.close(force)]);
      };
    });
  },
};

export type Stop = (force: boolean) => Promise<void>;

/**
 * Runs a long-lived pipeline service until SIGTERM/SIGINT: metrics server, pipeline, the
 * service's own start/stop. A second signal stops without waiting for jobs in flight.
 */
export async function runService(
  options: { role: 'worker' | 'producer' | 'serve'; config: ReturnType<typeof loadConfig>; logger: ReturnType<typeof createLogger> },
  start: (
    pipeline: Awaited<ReturnType<typeof openPipeline>>,
    observer: NonNullable<Awaited<ReturnType<typeof startProcessMetrics>>['observer']>,
    metrics: Awaited<ReturnType<typeof startProcessMetrics>>,
  ) => Promise<Stop>,
): Promise<number> {
  const { config, logger } = options;
  const pipeline = await openPipeline(config, { waitWith: logger });
  const metrics = await startProcessMetrics(config.metrics, { role: options.role, logger, health: () => ({ ok: pipeline.redis.status === 'ready' }) });
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
        logger.info({ signal, deadlineMs: config.pipeline.stopTimeoutMs }, 'stopping: finishing jobs in flight (send it again to stop at once)');
        void stop(false).then(() => resolve(false), () => resolve(false));
        // A deadline a supervisor can rely on (Kubernetes' terminationGracePeriodSeconds is set above it).
        setTimeout(() => onSignal('SIGTERM'), config.pipeline.stopTimeoutMs).unref();
        return;
      }
      if (signals > 2) return;
      // At once: jobs in flight are abandoned and come back through the stall check (their
      // locks lapse within FER_LOCK_DURATION_MS); nothing is lost, some frames are redone.
      logger.info({ signal }, 'stopping now: jobs in flight will be picked up by other workers');
      void atMost(stop(true), 2000).then(() => resolve(true), () => resolve(true));
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

/** How long a forced stop waits for the inference runs in progress (FER_STOP_TIMEOUT_MS's 30 s + this stays inside Kubernetes' 45 s). */
const FORCED_INFERENCE_WAIT_MS = 10_000;

/** Waits for `work`, but no longer than `ms` (the timer does not keep the process alive once `work` is done). */
function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work.then(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

export default worker;
