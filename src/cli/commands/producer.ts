// `fer-stream producer`: a long-running producer (probe, validate, split videos into frame chunks)
// for separate processes or machines; video files must be readable at their submitted path.

import { logEnvironment } from '../../config/process-env.ts';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../core/logger.ts';
import { startProducer } from '../../producer/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { runService } from '../service-runner.ts';

const producer: Command = {
  summary: 'Run a producer (videos → frame chunks in Redis) against REDIS_URL',
  usage: [
    'Usage: fer-stream producer',
    '',
    'Takes submitted videos (FER_PRODUCER_CONCURRENCY at a time), probes and validates them and',
    'streams their frames into Redis under FER_REDIS_FRAME_BUDGET_BYTES. Runs until SIGTERM/SIGINT.',
  ].join('\n'),
  async run(args) {
    parseCommandArgs(args, {}, false);
    const config = loadConfig();
    const logger = createLogger({ name: 'producer', level: config.logLevel, pretty: logEnvironment().pretty });
    return runService({ role: 'producer', config, logger }, async (pipeline, observer) => {
      const handle = startProducer(pipeline, { observer, logger });
      logger.info({ concurrency: config.pipeline.producerConcurrency }, 'producer started');
      return (force) => handle.close(force);
    });
  },
};

export default producer;
