// The HTTP API on a pipeline: the server, its metrics and the upload sweep — for `fer-stream api`
// (the API alone, for deployments) and `fer-stream serve` (API, producer and worker in one process).

import { FerError } from '../core/errors.ts';
import { buildApiServer } from '../api/server.ts';
import { createPipelineVideoService } from '../api/pipeline-service.ts';
import { redisRateLimitStore } from '../api/rate-limit-store.ts';
import { volumeFreeBytes } from '../api/upload-space.ts';
import { sweepUploads } from '../api/uploads.ts';
import { annotatedDirOf } from '../api/view/routes.ts';
import { assertSafeListen, parseTokens, type ApiToken } from '../api/auth.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../core/logger.ts';
import type { ProcessMetrics } from '../metrics/process.ts';
import { redisMemory, servicesSeen, type Pipeline } from '../pipeline/index.ts';

export interface ServedApi {
  readonly url: string;
  /** Stops the upload sweep and the server (which closes the service, and with `closePipeline` the pipeline). */
  close(): Promise<void>;
}

/**
 * The API's tokens (FER_API_TOKENS), refused — exit 1, one line — when malformed or missing where the address is not
 * loopback.
 */
export function apiTokens(config: Config): ApiToken[] {
  try {
    const tokens = config.api.auth === 'none' ? [] : parseTokens(config.api.tokens);
    assertSafeListen(config.api.host, config.api.auth, tokens);
    return tokens;
  } catch (error) {
    // Refused as configured (tokens unreadable, or none on a network address): exit 1.
    throw new FerError('unsafe_listen', (error as Error).message, { cause: error });
  }
}

export async function serveApi(options: {
  config: Config;
  logger: Logger;
  pipeline: Pipeline;
  metrics: ProcessMetrics;
  tokens: readonly ApiToken[];
  closePipeline?: boolean;
}): Promise<ServedApi> {
  const { config, logger, pipeline, metrics, tokens } = options;
  const service = createPipelineVideoService(pipeline, {
    closePipeline: options.closePipeline ?? true,
    redisTimeoutMs: config.api.redisTimeoutMs,
  });
  metrics.watchRedisMemory(() => redisMemory(pipeline));
  metrics.watchServices(() => servicesSeen(pipeline, config.pipeline.serviceSeenSeconds));
  const app = await buildApiServer({
    config: config.api,
    service,
    logger,
    tokens,
    allowedContainers: config.pipeline.allowedContainers,
    rateLimitStore: redisRateLimitStore(pipeline, config.api.redisTimeoutMs),
  });
  // The uploads' volume exists now (buildApiServer made the directory): its free space against the floor.
  metrics.watchUploadVolume(async () => ({
    freeBytes: await volumeFreeBytes(config.api.uploadDir),
    minFreeBytes: config.api.uploadMinFreeBytes,
  }));
  const url = await app.listen({ host: config.api.host, port: config.api.port });
  const auth =
    tokens.length > 0
      ? `bearer tokens (${tokens.map((t) => t.name).join(', ')})`
      : config.api.auth === 'none'
        ? 'none (FER_API_AUTH=none)'
        : 'none (loopback only)';
  logger.info(
    {
      url,
      auth,
      uploadDir: config.api.uploadDir,
      inputDir: config.api.inputDir ?? null,
      metrics: metrics.server?.url ?? null,
    },
    'API listening',
  );

  // Delete uploads once their videos are finished (docs/api.md). The next sweep is timed
  // from the end of the last, so a slow one (a Redis far away, a big day) never overlaps itself.
  let sweep: NodeJS.Timeout | undefined;
  const sweepLater = () => {
    sweep = setTimeout(() => {
      sweepUploads(pipeline, {
        keepSeconds: config.api.uploadKeepSeconds,
        annotatedDir: annotatedDirOf(config.api.uploadDir),
      })
        .then(
          ({ uploads, annotated }) =>
            uploads.length + annotated.length > 0 &&
            logger.info(
              { uploads: uploads.length, annotatedCopies: annotated.length },
              'deleted uploads of finished videos and annotated copies of gone ones',
            ),
          (error: unknown) => logger.warn({ err: error }, 'upload sweep failed'),
        )
        .finally(() => sweep !== undefined && sweepLater());
    }, config.api.uploadSweepSeconds * 1000);
  };
  if (config.api.uploadSweepSeconds > 0) sweepLater();
  return {
    url,
    async close() {
      clearTimeout(sweep);
      sweep = undefined;
      await app.close();
    },
  };
}
