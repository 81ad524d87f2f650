// Managing videos after submission: listing them (newest first, by state, by owner), deleting one
// in any state — an open video is cancelled first, so producers and workers stop taking its work —
// and keeping the index of videos as short as the records it points to (records expire with the
// results' retention; their index entries are pruned by the recovery sweep).

import type { ErrorCode } from '../core/errors.ts';
import type { Pipeline } from './context.ts';
import { getVideoStatus, type VideoState, type VideoStatus } from './videos.ts';
import { failVideo, heldChunkKeys, releaseVideoChunks } from './video-progress.ts';
import { removeWebhooks } from './webhooks.ts';
import { segmentJobId, segmentPlanOf } from './segments.ts';

export interface ListVideosOptions {
  /** Only videos in this state. */
  readonly state?: VideoState;
  /** Only videos this says yes to (the API's own states). */
  readonly matches?: (status: VideoStatus) => boolean;
  /** Only videos submitted by this owner (an API token's name). */
  readonly owner?: string;
  readonly limit: number;
  /** From a previous page's `next`: continue after that video. */
  readonly cursor?: string;
}

export interface VideoPage {
  readonly videos: readonly VideoStatus[];
  /** Pass as `cursor` for the next page; null when this is the last. */
  readonly next: string | null;
}

/**
 * How many index entries one listing reads at most while filtering (a page is returned once it is full or this is
 * spent).
 */
const SCAN_LIMIT = 2000;

/**
 * Videos newest first. The cursor is "<submission ms>:<id>" of the last video of the page: stable
 * while new videos arrive (they sort before it), unlike an offset. Filtering reads at most
 * SCAN_LIMIT index entries per page; a page can then be short with a `next` to go on.
 */
export async function listVideos(pipeline: Pipeline, options: ListVideosOptions): Promise<VideoPage> {
  const { redis, keys } = pipeline;
  let [score, afterId] = parseCursor(options.cursor);
  const videos: VideoStatus[] = [];
  let scanned = 0;
  for (;;) {
    const batch = await redis.zrevrangebyscore(
      keys.videoIndex,
      score === null ? '+inf' : String(score),
      '-inf',
      'WITHSCORES',
      'LIMIT',
      0,
      BATCH,
    );
    const all: Array<{ id: string; score: number }> = [];
    for (let i = 0; i < batch.length; i += 2) all.push({ id: batch[i]!, score: Number(batch[i + 1]) });
    // Entries sharing the cursor's millisecond come first (inclusive max): skip up to the cursor.
    const at = afterId === null ? -1 : all.findIndex((e) => e.id === afterId && e.score === score);
    for (const entry of all.slice(at + 1)) {
      scanned += 1;
      const status = await getVideoStatus(pipeline, entry.id);
      // An expired record (its index entry not pruned yet), another state, another owner: not listed.
      const listed =
        status !== null &&
        (options.state === undefined || status.state === options.state) &&
        (options.matches === undefined || options.matches(status)) &&
        (options.owner === undefined || status.owner === options.owner);
      if (listed) videos.push(status);
      if (videos.length === options.limit || scanned >= SCAN_LIMIT)
        return { videos, next: `${entry.score}:${entry.id}` };
    }
    if (all.length < BATCH) return { videos, next: null };
    ({ score, id: afterId } = all[all.length - 1]!);
  }
}

const BATCH = 200;

function parseCursor(cursor: string | undefined): [number | null, string | null] {
  // A malformed cursor starts from the newest (the API validates it before this).
  if (cursor === undefined) return [null, null];
  const match = /^(\d+):(.+)$/.exec(cursor);
  if (!match) return [null, null];
  return [Number(match[1]), match[2]!];
}

export interface DeleteOutcome {
  /** The state it was in: an open state means it was cancelled. */
  readonly state: VideoState;
  /** The file the API uploaded for it, if any: the caller deletes it. */
  readonly uploadedFile: string | null;
}

/**
 * The reason a video cancelled on request carries (its record is `failed` with this code; the API shows it as
 * `cancelled`).
 */
export const CANCELLED_CODE = 'cancelled' satisfies ErrorCode;

/**
 * Cancels an open video and keeps its record for the results' retention, in state failed with the
 * code `cancelled` (the API's `cancelled`): producers stop at their next chunk, workers skip its
 * chunks and only release them, its queued jobs are removed and its frame bytes given back; its
 * end-of-video webhooks announce it. null: unknown; `finished`: it had already completed or failed.
 */
export async function cancelVideo(pipeline: Pipeline, videoId: string): Promise<'cancelled' | 'finished' | null> {
  const status = await getVideoStatus(pipeline, videoId);
  if (status === null) return null;
  if (status.state === 'completed' || status.state === 'failed') return 'finished';
  const chunkJobs = await heldChunkJobIds(pipeline, videoId);
  if (!(await failVideo(pipeline, videoId, { code: CANCELLED_CODE, message: 'cancelled by request' })))
    return 'finished';
  await dropQueuedWork(pipeline, videoId, chunkJobs);
  return 'cancelled';
}

/**
 * Removes a finished (failed or cancelled) video's queued jobs — producer, segments, chunks (`chunkJobs`), aggregation
 * — and gives back its chunks.
 */
async function dropQueuedWork(
  pipeline: Pipeline,
  videoId: string,
  chunkJobs: readonly string[],
  extra: ReadonlyArray<Promise<unknown>> = [],
): Promise<void> {
  const { queues } = pipeline;
  const plan = segmentPlanOf(await pipeline.redis.hgetall(pipeline.keys.video(videoId)));
  const removals = [
    queues.videos.remove(videoId),
    ...(plan ?? []).map((segment) => queues.videos.remove(segmentJobId(videoId, segment.index))),
    queues.finalize.remove(videoId),
    ...chunkJobs.map((id) => queues.frames.remove(id)),
    ...extra,
  ];
  // A job a worker holds right now cannot be removed: it finishes against a video that is finished (or gone).
  await Promise.allSettled(removals);
  await releaseVideoChunks(pipeline, videoId);
}

/**
 * Deletes a video in any state. An open one is first failed as `cancelled` (see cancelVideo), its
 * queued work removed and its chunks' bytes given back to the budget; then every key of it goes. A
 * chunk a producer was writing at that moment is released by whichever worker takes its job.
 */
export async function deleteVideo(pipeline: Pipeline, videoId: string): Promise<DeleteOutcome | null> {
  const { redis, keys } = pipeline;
  const status = await getVideoStatus(pipeline, videoId);
  if (status === null) return null;
  // Its chunks' jobs are known from the held chunks: read before failing it, which releases them.
  const chunkJobs = await heldChunkJobIds(pipeline, videoId);
  if (status.state !== 'completed' && status.state !== 'failed') {
    await failVideo(pipeline, videoId, { code: CANCELLED_CODE, message: 'cancelled by request' });
  }
  // Deleted is not an event to announce: the cancellation's own video.failed delivery goes too.
  await dropQueuedWork(pipeline, videoId, chunkJobs, [removeWebhooks(pipeline, videoId)]);
  const uploadedFile = await redis.hget(keys.uploads, videoId);
  await redis
    .multi()
    .del(keys.video(videoId), keys.videoFrames(videoId), keys.videoResult(videoId), keys.videoWebhooks(videoId))
    .zrem(keys.videoIndex, videoId)
    .zrem(keys.activeVideos, videoId)
    .hdel(keys.uploads, videoId)
    .exec();
  return { state: status.state, uploadedFile };
}

/** Ids of the frame jobs whose chunks of the video are still held (the job id ends with the chunk's number). */
export async function heldChunkJobIds(pipeline: Pipeline, videoId: string): Promise<string[]> {
  return (await heldChunkKeys(pipeline, videoId)).map((key) => `${videoId}-${key.slice(key.lastIndexOf(':') + 1)}`);
}

/**
 * After a deleted video's producers and workers have stopped: removes its frame jobs — those of
 * chunks a producer still wrote while it was being deleted (deleteVideo cannot see those), and
 * `jobIds` known from before (jobs a worker held then, since failed back into the queue) — and
 * gives back their chunks.
 */
export async function purgeDeletedVideoChunks(
  pipeline: Pipeline,
  videoId: string,
  jobIds: readonly string[] = [],
): Promise<void> {
  const ids = new Set([...jobIds, ...(await heldChunkJobIds(pipeline, videoId))]);
  await Promise.allSettled([...ids].map((id) => pipeline.queues.frames.remove(id)));
  await releaseVideoChunks(pipeline, videoId);
}

/**
 * Drops index entries whose record has expired (the results' retention), oldest first, up to
 * `batch` entries per call: records expire in about the order they were submitted.
 */
export async function pruneVideoIndex(pipeline: Pipeline, batch = 500): Promise<number> {
  const { redis, keys } = pipeline;
  const oldest = await redis.zrange(keys.videoIndex, '0', String(batch - 1));
  if (oldest.length === 0) return 0;
  const exists = await Promise.all(oldest.map((id) => redis.exists(keys.video(id))));
  const gone = oldest.filter((_, i) => exists[i] === 0);
  if (gone.length > 0) await redis.zrem(keys.videoIndex, ...gone);
  return gone.length;
}
