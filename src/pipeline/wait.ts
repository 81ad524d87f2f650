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

/** Resolves once every video is completed or failed (or unknown); returns their final statuses. */
export async function waitForVideos(pipeline: Pipeline, videoIds: readonly string[], options: WaitOptions = {}): Promise<Map<string, VideoStatus>> {
  const deadline = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : Number.POSITIVE_INFINITY;
  const statuses = new Map<string, VideoStatus>();
  for (;;) {
    let pending = 0;
    for (const id of videoIds) {
      const last = statuses.get(id);
      if (last && (last.state === 'completed' || last.state === 'failed')) continue;
      const status = await getVideoStatus(pipeline, id);
      if (status === null) throw new Error(`video ${id} is unknown (never submitted, or its record expired)`);
      statuses.set(id, status);
      if (status.state !== 'completed' && status.state !== 'failed') pending += 1;
    }
    options.onProgress?.(statuses);
    if (pending === 0) return statuses;
    if (Date.now() > deadline) throw new Error(`${pending} of ${videoIds.length} videos still not finished after ${options.timeoutMs} ms`);
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
}
