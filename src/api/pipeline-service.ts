import { FerError } from '../core/types.ts';
import { getVideoResult, getVideoStatus, submitVideo, type Pipeline, type VideoStatus as PipelineVideoStatus } from '../pipeline/index.ts';
import type { VideoResult } from '../results/types.ts';
import { ApiError } from './errors.ts';
import { recordUpload } from './uploads.ts';
import type { SubmitRequest, VideoService, VideoStatus } from './service.ts';

// VideoService over the pipeline's Redis records (src/pipeline): what `fer-stream api` and the
// `submit` / `status` / `results` commands use.

const READY_TIMEOUT_MS = 1000;

export function createPipelineVideoService(pipeline: Pipeline, options: { closePipeline?: boolean } = {}): VideoService {
  return {
    async submit(request: SubmitRequest) {
      try {
        const { videoId } = await submitVideo(pipeline, {
          path: request.path,
          ...(request.originalName !== undefined ? { name: request.originalName } : {}),
          options: request.options,
        });
        if (request.uploaded) await recordUpload(pipeline, videoId, request.path);
        return { id: videoId };
      } catch (error) {
        // The pipeline's own checks of the options (limits from its configuration) are the client's mistake.
        if (error instanceof FerError && error.code === 'invalid_option') throw new ApiError('invalid_request', error.message, { cause: error });
        throw error;
      }
    },
    async status(id: string) {
      const status = await getVideoStatus(pipeline, id);
      return status === null ? null : toApiStatus(status);
    },
    async results(id: string) {
      return getVideoResult<VideoResult>(pipeline, id);
    },
    async ready() {
      // With maxRetriesPerRequest null a command waits for Redis forever: answer from the
      // connection state, and bound the PING.
      if (pipeline.redis.status !== 'ready') return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      });
      try {
        return await Promise.race([pipeline.redis.ping().then((r) => r === 'PONG'), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (options.closePipeline) await pipeline.close();
    },
  };
}

export function toApiStatus(status: PipelineVideoStatus): VideoStatus {
  const { framesExpected, framesTotal, framesDone, framesFailed } = status.progress;
  const denominator = framesTotal ?? framesExpected;
  return {
    id: status.videoId,
    state: status.state,
    name: status.name,
    progress: {
      framesExpected,
      framesTotal,
      framesDone,
      framesFailed,
      fraction: denominator === null ? null : denominator === 0 ? 1 : Math.min(1, framesDone / denominator),
    },
    errors: status.error === null ? [] : [status.error],
    submittedAt: status.submittedAt,
    ...(status.startedAt !== null ? { startedAt: status.startedAt } : {}),
    ...(status.completedAt !== null ? { completedAt: status.completedAt } : {}),
  };
}
