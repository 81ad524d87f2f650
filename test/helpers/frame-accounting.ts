import { getVideoResult, getVideoStatus, heldFrames, type Pipeline } from '../../src/pipeline/index.ts';
import type { VideoResult } from '../../src/results/index.ts';

// The exact frame accounting every fault test and bench:chaos ends with: each video completed,
// sampled = analysed + failed = the frames its sampling gives, frame indexes 0..N-1 once each, no
// frame bytes left in Redis and the frame budget back to 0. No vitest here (bench:chaos uses it).

export interface AccountingReport {
  readonly analysed: number;
  readonly failed: number;
  /** What is off, one line each; empty when the accounting is exact. */
  readonly problems: readonly string[];
}

export async function checkAccounting(pipeline: Pipeline, expected: ReadonlyArray<{ videoId: string; frames: number }>): Promise<AccountingReport> {
  let analysed = 0;
  let failed = 0;
  const problems: string[] = [];
  for (const { videoId, frames } of expected) {
    const status = await getVideoStatus(pipeline, videoId);
    if (status?.state !== 'completed') {
      problems.push(`${videoId} is ${status?.state ?? 'unknown'}${status?.error ? `: ${status.error.code} ${status.error.message}` : ''}`);
      continue;
    }
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    const { sampled } = result.counts;
    if (sampled !== frames || result.counts.analysed + result.counts.failed !== frames) problems.push(`${videoId}: sampled ${sampled}, analysed ${result.counts.analysed}, failed ${result.counts.failed}; expected ${frames} frames`);
    const indexes = result.frames.map((f) => f.index);
    if (indexes.length !== frames || indexes.some((index, i) => index !== i)) problems.push(`${videoId}: frame indexes are not 0..${frames - 1} once each`);
    analysed += result.counts.analysed;
    failed += result.counts.failed;
  }
  const held = await heldFrames(pipeline);
  if (held.bytes !== 0 || held.frames !== 0) problems.push(`frame budget not back to 0: ${held.bytes} bytes, ${held.frames} frames held`);
  const reservations = await pipeline.redis.hlen(pipeline.keys.heldChunks);
  if (reservations !== 0) problems.push(`${reservations} frame-budget reservations left`);
  const prefix = pipeline.keys.videoIndex.replace(/:videos$/, '');
  let cursor = '0';
  let chunks = 0;
  do {
    const [next, keys] = await pipeline.redis.scan(cursor, 'MATCH', `${prefix}:chunk:*`, 'COUNT', 1000);
    chunks += keys.length;
    cursor = next;
  } while (cursor !== '0');
  if (chunks !== 0) problems.push(`${chunks} frame chunks left in Redis`);
  return { analysed, failed, problems };
}
