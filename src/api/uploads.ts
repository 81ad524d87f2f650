import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { getVideoStatus, type Pipeline } from '../pipeline/index.ts';

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

export async function sweepUploads(pipeline: Pipeline, options: SweepOptions): Promise<SweepResult> {
  const now = options.now ?? Date.now();
  const uploads = await pipeline.redis.hgetall(pipeline.keys.uploads);
  const removed: string[] = [];
  for (const [videoId, file] of Object.entries(uploads)) {
    const status = await getVideoStatus(pipeline, videoId);
    if (status !== null) {
      if (status.state !== 'completed' && status.state !== 'failed') continue;
      const finished = Date.parse(status.completedAt ?? '');
      if (Number.isFinite(finished) && now - finished < options.keepSeconds * 1000) continue;
    }
    await rm(file, { force: true });
    await pipeline.redis.hdel(pipeline.keys.uploads, videoId);
    removed.push(videoId);
  }
  return { uploads: removed, annotated: options.annotatedDir ? await sweepAnnotated(pipeline, options.annotatedDir, now) : [] };
}

async function sweepAnnotated(pipeline: Pipeline, dir: string, now: number): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const partial = /^(.+)\.mp4\.\d+\.part\.mp4$/.exec(name);
    if (partial) {
      const modified = (await stat(file).catch(() => null))?.mtimeMs;
      if (modified !== undefined && now - modified > STALE_PARTIAL_MS) await rm(file, { force: true });
      continue;
    }
    const copy = /^(.+)\.mp4$/.exec(name);
    if (!copy || (await getVideoStatus(pipeline, copy[1]!)) !== null) continue;
    await rm(file, { force: true });
    removed.push(copy[1]!);
  }
  return removed;
}
