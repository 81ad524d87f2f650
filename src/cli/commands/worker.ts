// `fer-stream worker [--model DIR] [--concurrency N] [--producer]`: a long-running frame worker
// (and aggregator) for separate processes or machines sharing one Redis. SIGTERM/SIGINT stop it
// gracefully: no new jobs, jobs in flight finish, the model closes; a second signal forces it.

import { logEnvironment } from '../../config/process-env.ts';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../core/logger.ts';
import { resolveIntraOpThreads } from '../../inference/backend/index.ts';
import { startProducer, type ProducerHandle } from '../../producer/index.ts';
import { startWorker } from '../../worker/index.ts';
import { numberOption, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { ANALYZER_FLAGS, analyzerChoice, NO_DETECT_USAGE } from '../faces-options.ts';
import { trackingFor } from '../../app/tracking.ts';
import { createFrameAnalyzer } from '../../app/frame-analyzer.ts';
import { runService } from '../service-runner.ts';

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
    const { values } = parseCommandArgs(
      args,
      {
        concurrency: { type: 'string' },
        producer: { type: 'boolean', default: false },
        ...ANALYZER_FLAGS,
      },
      false,
    );
    const concurrency = numberOption(
      'concurrency',
      values.concurrency,
      (n) => Number.isInteger(n) && n >= 1,
      'a positive integer',
    );
    const choice = analyzerChoice(values);
    const config = loadConfig();
    const logger = createLogger({ name: 'worker', level: config.logLevel, pretty: logEnvironment().pretty });
    return runService({ role: 'worker', config, logger }, async (pipeline, observer, metrics) => {
      const onProfile = (c: { profile: string; reason: string; explicit: boolean }) =>
        c.explicit
          ? logger.info({ profile: c.profile }, `profile ${c.profile}`)
          : logger.warn(
              { profile: c.profile, reason: c.reason },
              `profile ${c.profile} chosen automatically: ${c.reason}`,
            );
      const analyzer = await createFrameAnalyzer({
        ...choice,
        config,
        onProfile,
        logger,
        observer,
      });
      // ferstream_build_info: which model this worker runs and the provider it actually got.
      metrics.setBuildInfo({ model: analyzer.info.name, provider: analyzer.info.executionProvider ?? 'none' });
      if (analyzer.info.executionProvider)
        metrics.declareInference(
          analyzer.info.detector ? ['detect', 'classify'] : ['classify'],
          analyzer.info.executionProvider,
        );
      const handle = startWorker(pipeline, {
        analyzer,
        observer,
        logger,
        finalizeOptions: trackingFor(analyzer, config),
        ...(concurrency ? { concurrency } : {}),
      });
      const producer: ProducerHandle | undefined = values.producer
        ? startProducer(pipeline, { observer, logger })
        : undefined;
      // With a model: the thread count onnxruntime got, and why (auto: the usable CPUs), for whoever sizes workers.
      const intraOp = analyzer.info.executionProvider
        ? resolveIntraOpThreads(config.inference.intraOpThreads, config.inference.sessionThreads)
        : undefined;
      const threads = intraOp ? { intraOpThreads: intraOp.threads, intraOpThreadsWhy: intraOp.why } : {};
      logger.info(
        {
          analyzer: analyzer.info.name,
          variant: analyzer.info.variant,
          concurrency: concurrency ?? config.pipeline.workerConcurrency,
          producer: values.producer,
          ...threads,
        },
        'worker started',
      );
      return async (force) => {
        await Promise.all([producer?.close(force), handle.close(force)]);
      };
    });
  },
};

export default worker;
