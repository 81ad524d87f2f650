// `fer-stream serve [--port N] [--host H]`: the HTTP API, a producer and a worker in one process —
// one machine, one command (docs/api.md); `api`, `producer` and `worker` stay separate for
// deployments. Uses REDIS_URL, or a private redis-server when none runs (src/cli/private-redis.ts).

import { settingInEnvironment, logEnvironment } from '../../config/process-env.ts';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../core/logger.ts';
import { startProducer } from '../../producer/index.ts';
import { startWorker } from '../../worker/index.ts';
import { apiTokens, serveApi } from '../../app/api-service.ts';
import { numberOption, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { ANALYZER_FLAGS, analyzerChoice, NO_DETECT_USAGE } from '../faces-options.ts';
import { trackingFor } from '../../app/tracking.ts';
import { createFrameAnalyzer } from '../../app/frame-analyzer.ts';
import { withRedisForOneMachine } from '../private-redis.ts';
import { runService } from '../service-runner.ts';

const serve: Command = {
  summary: 'API, producer and worker in one process: submit videos over HTTP on one machine',
  usage: [
    'Usage: fer-stream serve [--port N] [--host H] [--profile P] [--model DIR] [--analyzer KIND]',
    '',
    '  --port N         listen port (default FER_API_PORT, 8080; 0 = any free port, logged)',
    '  --host H         listen address (default 127.0.0.1 — this machine only; FER_API_HOST or',
    '                   --host 0.0.0.0 for others, which needs FER_API_TOKENS)',
    '  --profile P      compact, vit or auto (default FER_PROFILE), as for analyze',
    `  --model DIR      the expression model directory (default: the profile's)`,
    '  --analyzer KIND  faces (default), whole-frame (= --no-detect) or cost-free (no model)',
    '  --batch-delay-ms N  with --analyzer cost-free: pretend each batch takes N ms (tests, benches)',
    NO_DETECT_USAGE,
    '',
    'The API of `fer-stream api` with a producer and a worker of this process behind it: an upload',
    'completes with nothing else running. Uses REDIS_URL; when it is unset and nothing answers on',
    '127.0.0.1:6379, a private redis-server on a Unix socket, stopped on exit. SIGTERM/SIGINT stop',
    'it: jobs in flight finish (a second signal: at once). Exit codes: 0 stopped, 1 failed to start,',
    '2 bad usage, 4 Redis unreachable.',
  ].join('\n'),
  run: (args) => withRedisForOneMachine(() => runServe(args)),
};

async function runServe(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      ...ANALYZER_FLAGS,
    },
    false,
  );
  const port = numberOption(
    'port',
    values.port,
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
    'an integer 0..65535',
  );
  const choice = analyzerChoice(values);
  // One machine: this machine only, unless asked otherwise.
  const host = values.host ?? settingInEnvironment('api.host') ?? '127.0.0.1';
  const config = loadConfig(process.env, { api: { host, ...(port !== undefined ? { port } : {}) } });
  const logger = createLogger({ name: 'serve', level: config.logLevel, pretty: logEnvironment().pretty });
  const tokens = apiTokens(config);
  return runService({ role: 'serve', config, logger }, async (pipeline, observer, metrics) => {
    const onProfile = (c: { profile: string; reason: string; explicit: boolean }) =>
      logger.info(
        { profile: c.profile, reason: c.reason },
        `profile ${c.profile}${c.explicit ? '' : ` (${c.reason})`}`,
      );
    const analyzer = await createFrameAnalyzer({
      ...choice,
      config,
      onProfile,
      logger,
      observer,
    });
    metrics.setBuildInfo({ model: analyzer.info.name, provider: analyzer.info.executionProvider ?? 'none' });
    const worker = startWorker(pipeline, {
      analyzer,
      observer,
      logger,
      finalizeOptions: trackingFor(analyzer, config),
    });
    const producer = startProducer(pipeline, { observer, logger, recovery: false });
    // The pipeline is runService's to close; the API's service only stops serving.
    const api = await serveApi({ config, logger, pipeline, metrics, tokens, closePipeline: false });
    logger.info(
      { url: api.url, analyzer: analyzer.info.name },
      `serving on ${api.url}: submit with POST ${api.url}/v1/videos; this process splits and analyses them`,
    );
    return async (force) => {
      await api.close();
      await Promise.all([producer.close(force), worker.close(force)]);
    };
  });
}

export default serve;
