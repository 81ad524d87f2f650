// Connecting a CLI command to the pipeline's Redis, failing fast and clearly when it is not there
// (ioredis would otherwise retry for ever and the command would hang).

import type { Config } from '../config/index.ts';
import { createPipeline, type Pipeline } from '../pipeline/index.ts';
import { EXIT_CODES } from './command.ts';

/** An error that carries the exit code the dispatcher returns. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Opens the pipeline and waits until Redis answers; CommandError (exit code `unavailable`) after `timeoutMs`. */
export async function openPipeline(config: Config, timeoutMs = 5000): Promise<Pipeline> {
  const pipeline = createPipeline({ redisUrl: config.redisUrl, prefix: config.redisPrefix, config: config.pipeline });
  let lastError: Error | undefined;
  const onError = (error: Error) => {
    lastError = error;
  };
  pipeline.redis.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      if (pipeline.redis.status === 'ready') return resolve();
      const timer = setTimeout(() => {
        pipeline.redis.off('ready', onReady);
        reject(new CommandError(`Redis at ${config.redisUrl} is not reachable${lastError ? ` (${lastError.message})` : ''}; set REDIS_URL`, EXIT_CODES.unavailable));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      pipeline.redis.once('ready', onReady);
    });
  } catch (error) {
    // Not pipeline.close(): closing queues waits for a connection that never comes.
    pipeline.redis.disconnect();
    throw error;
  } finally {
    pipeline.redis.off('error', onError);
  }
  return pipeline;
}
