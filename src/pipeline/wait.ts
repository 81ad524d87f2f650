// Waiting for videos to finish, with progress callbacks: the CLI's progress bars and tests.

import { getVideoStatus, type VideoStatus } from './videos.ts';
import type { Pipeline } from './context.ts';

export interface WaitOptions {
  /** Called after every poll with the latest status of every video. */
  readonly onProgress?: (statuses: ReadonlyMap<string, VideoStatus>) => void;
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const POLL_BATCH = 256;

/** Resolves once every video is completed or failed (or unknown); returns their final statuses. */
export async function waitForVideos(
  pipeline: Pipeline,
  videoIds: readonly string[],
  options: WaitOptions = {},
): Promise<Map<string, VideoStatus>> {
  const deadline = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : Number.POSITIVE_INFINITY;
  const statuses = new Map<string, VideoStatus>();
  const finished = (id: string) => {
    const state = statuses.get(id)?.state;
    return state === 'completed' || state === 'failed';
  };
  for (;;) {
    // The videos still running are asked at once (one round trip on the pipelined connection,
    // where one after another cost a round trip each), a few hundred at a time.
    const asking = videoIds.filter((id) => !finished(id));
    for (let from = 0; from < asking.length; from += POLL_BATCH) {
      const batch = asking.slice(from, from + POLL_BATCH);
      const answers = await Promise.all(batch.map((id) => getVideoStatus(pipeline, id)));
      answers.forEach((status, i) => {
        if (status === null) throw new Error(`video ${batch[i]} is unknown (never submitted, or its record expired)`);
        statuses.set(batch[i]!, status);
      });
    }
    const pending = videoIds.filter((id) => !finished(id)).length;
    options.onProgress?.(statuses);
    if (pending === 0) return statuses;
    if (Date.now() > deadline)
      throw new Error(`${pending} of ${videoIds.length} videos still not finished after ${options.timeoutMs} ms`);
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
}
