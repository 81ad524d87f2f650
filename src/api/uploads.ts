import { rm } from 'node:fs/promises';
import { getVideoStatus, type Pipeline } from '../pipeline/index.ts';

// Uploaded videos are only needed until their frames are extracted. The API records each upload
// (video id → file) in Redis; a periodic sweep deletes the files of videos that have completed,
// failed, or expired, so the upload directory does not grow for ever. Kept in Redis rather than
// in memory so that a restarted (or another) API instance still cleans up.

export async function recordUpload(pipeline: Pipeline, videoId: string, file: string): Promise<void> {
  await pipeline.redis.hset(pipeline.keys.uploads, videoId, file);
}

/** Deletes the uploaded files of finished videos; returns the ids whose files were removed. */
export async function sweepUploads(pipeline: Pipeline): Promise<string[]> {
  const uploads = await pipeline.redis.hgetall(pipeline.keys.uploads);
  const removed: string[] = [];
  for (const [videoId, file] of Object.entries(uploads)) {
    const status = await getVideoStatus(pipeline, videoId);
    if (status !== null && status.state !== 'completed' && status.state !== 'failed') continue;
    await rm(file, { force: true });
    await pipeline.redis.hdel(pipeline.keys.uploads, videoId);
    removed.push(videoId);
  }
  return removed;
}
