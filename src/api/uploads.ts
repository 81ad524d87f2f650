import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Pipeline } from '../pipeline/index.ts';

// Uploaded videos are needed until their frames are extracted, and then by the viewer (the source
// it plays, and what the annotated copy is drawn from). The API records each upload (video id →
// file) in Redis; a periodic sweep deletes the file of a video that finished more than
// FER_UPLOAD_KEEP_SECONDS ago, or no longer exists (deleted, expired), so the upload directory
// does not grow for ever. Kept in Redis rather than in memory so that a restarted (or another) API
// instance still cleans up. Annotated copies (rendered on first view) go when their video does.

export async function recordUpload(pipeline: Pipeline, videoId: string, file: string): Promise<void> {
  await pipeline.redis.hset(pipeline.keys.uploads, videoId, file);
}

export interface SweepOptions {
  /** How long an upload stays after its video finished, s (0: deleted at the first sweep after). */
  readonly keepSeconds: number;
  /** Where annotated copies are rendered (`<id>.mp4`); copies of videos that no longer exist are deleted. */
  readonly annotatedDir?: string;
  readonly now?: number;
}

export interface SweepResult {
  /** Videos whose uploaded files were deleted. */
  readonly uploads: string[];
  /** Videos whose annotated copies were deleted. */
  readonly annotated: string[];
}

/** A render interrupted by a crash leaves `<id>.mp4.<pid>.part.mp4`; one this old is no render in progress. */
const STALE_PARTIAL_MS = 6 * 3600_000;

/** Uploads looked at per round trip: the hash is walked a page at a time, each page's videos asked at once. */
const PAGE = 500;

export async function sweepUploads(pipeline: Pipeline, options: SweepOptions): Promise<SweepResult> {
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  // A day of uploads is kept (FER_UPLOAD_KEEP_SECONDS): tens of thousands of entries. Walked with
  // HSCAN, a page's video states read together — not two round trips per upload every sweep.
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, flat] = await pipeline.redis.hscan(pipeline.keys.uploads, cursor, 'COUNT', PAGE);
    cursor = next;
    const page: Array<[videoId: string, file: string]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) if (!seen.has(flat[i]!)) page.push([flat[i]!, flat[i + 1]!]);
    const finished = await finishedAt(
      pipeline,
      page.map(([videoId]) => videoId),
    );
    const expired = page.filter(([videoId], i) => {
      seen.add(videoId);
      const at = finished[i]!;
      return at === 'gone' || (at !== 'open' && !(now - at < options.keepSeconds * 1000));
    });
    if (expired.length === 0) continue;
    await Promise.all(expired.map(([, file]) => rm(file, { force: true })));
    await pipeline.redis.hdel(pipeline.keys.uploads, ...expired.map(([videoId]) => videoId));
    removed.push(...expired.map(([videoId]) => videoId));
  } while (cursor !== '0');
  return {
    uploads: removed,
    annotated: options.annotatedDir ? await sweepAnnotated(pipeline, options.annotatedDir, now) : [],
  };
}

/**
 * For each video: 'gone' (deleted or expired), 'open' (not finished), or when it finished (ms; NaN
 * when the record has no time, which counts as long ago). The reads are sent together.
 */
async function finishedAt(pipeline: Pipeline, videoIds: readonly string[]): Promise<Array<'gone' | 'open' | number>> {
  const records = await Promise.all(
    videoIds.map((videoId) => pipeline.redis.hmget(pipeline.keys.video(videoId), 'state', 'completedAt')),
  );
  return records.map(([state, completedAt]) => {
    if (!state) return 'gone';
    if (state !== 'completed' && state !== 'failed') return 'open';
    return Date.parse(completedAt ?? '');
  });
}

async function sweepAnnotated(pipeline: Pipeline, dir: string, now: number): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const copies: Array<[videoId: string, file: string]> = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const partial = /^(.+)\.mp4\.\d+\.part\.mp4$/.exec(name);
    if (partial) {
      const modified = (await stat(file).catch(() => null))?.mtimeMs;
      if (modified !== undefined && now - modified > STALE_PARTIAL_MS) await rm(file, { force: true });
      continue;
    }
    const copy = /^(.+)\.mp4$/.exec(name);
    if (copy) copies.push([copy[1]!, file]);
  }
  const removed: string[] = [];
  for (let i = 0; i < copies.length; i += PAGE) {
    const page = copies.slice(i, i + PAGE);
    const finished = await finishedAt(
      pipeline,
      page.map(([videoId]) => videoId),
    );
    for (const [k, [videoId, file]] of page.entries()) {
      if (finished[k] !== 'gone') continue;
      await rm(file, { force: true });
      removed.push(videoId);
    }
  }
  return removed;
}
