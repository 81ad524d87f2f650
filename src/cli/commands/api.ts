// `fer-stream api [--port N] [--host H]`: the HTTP API (docs/api.md) on the pipeline's
// Redis, plus /metrics and /healthz on the metrics port. Stops cleanly on SIGTERM / SIGINT.

import { logEnvironment } from '../../config/process-env.ts';
import { once } from 'node:events';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../core/logger.ts';
import { startProcessMetrics } from '../../metrics/process.ts';
import { backlogExporter, heldFrames } from '../../pipeline/index.ts';
import { apiTokens, serveApi } from '../../app/api-service.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { openPipeline } from '../connect.ts';
import { EXIT_CODES, type Command } from '../command.ts';

const api: Command = {
  summary: 'Run the HTTP API (submit videos, status, results)',
  usage: [
    'Usage: fer-stream api [--port N] [--host H]',
    '',
    '  --port N   listen port (default FER_API_PORT, 8080; 0 = any free port, logged)',
    '  --host H   listen address (default FER_API_HOST, 0.0.0.0)',
    '',
    'A non-loopback address needs FER_API_TOKENS (NAME:TOKEN,…; clients send Authorization: Bearer',
    'TOKEN) unless FER_API_AUTH=none. Uploads go to FER_UPLOAD_DIR (producers must see the same path); FER_INPUT_DIR enables',
    'submission by path. Logs JSON lines (readable on a terminal); the first line on stdout with',
    '"API listening" carries the URL. Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed to start,',
    '2 bad usage, 4 Redis unreachable at start.',
  ].join('\n'),
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        port: { type: 'string' },
        host: { type: 'string' },
      },
      false,
    );
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
      throw new UsageError(`--port must be an integer 0..65535, got "${values.port}"`);
    const config = loadConfig(process.env, {
      api: { ...(port !== undefined ? { port } : {}), ...(values.host !== undefined ? { host: values.host } : {}) },
    });
    const logger = createLogger({ name: 'api', level: config.logLevel, pretty: logEnvironment().pretty });
    const tokens = apiTokens(config);

    const pipeline = await openPipeline(config, { waitWith: logger, failFast: true });
    const metrics = await startProcessMetrics(config.metrics, {
      role: 'api',
      logger,
      health: () => ({ ok: true, details: { redis: pipeline.redis.status === 'ready' ? 'ready' : 'unreachable' } }),
    });
    metrics.watchQueues(Object.values(pipeline.queues));
    metrics.watchHeldFrames(() => heldFrames(pipeline));
    metrics.watchBacklog(backlogExporter(pipeline));
    const served = await serveApi({ config, logger, pipeline, metrics, tokens });
    const signal = await Promise.race([
      once(process, 'SIGTERM').then(() => 'SIGTERM'),
      once(process, 'SIGINT').then(() => 'SIGINT'),
    ]);
    logger.info({ signal }, 'shutting down');
    await served.close(); // closes the service and with it the pipeline
    await metrics.close();
    return EXIT_CODES.ok;
  },
};

export default api;
