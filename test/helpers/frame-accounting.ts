import type { Cluster, Redis } from 'ioredis';
import { getVideoResult, getVideoStatus, heldFrames, isCluster, type Pipeline } from '../../src/pipeline/index.ts';
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

/**
 * Every frame chunk key in Redis now, with the address of the server holding it (each master of a cluster is scanned).
 */
export async function chunkKeysInRedis(pipeline: Pipeline): Promise<Array<{ key: string; server: string }>> {
  const servers: Redis[] = isCluster(pipeline.redis)
    ? (pipeline.redis as unknown as Cluster).nodes('master')
    : [pipeline.redis];
  const patterns = pipeline.keys.chunkShards.map((shard) => `${shard.chunkPrefix('*').slice(0, -2)}*`);
  const found: Array<{ key: string; server: string }> = [];
  for (const server of servers) {
    const address = `${server.options.host}:${server.options.port}`;
    for (const pattern of new Set(patterns)) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        for (const key of keys) found.push({ key, server: address });
        cursor = next;
      } while (cursor !== '0');
    }
  }
  return found;
}

export async function checkAccounting(
  pipeline: Pipeline,
  expected: ReadonlyArray<{ videoId: string; frames: number }>,
): Promise<AccountingReport> {
  let analysed = 0;
  let failed = 0;
  const problems: string[] = [];
  for (const { videoId, frames } of expected) {
    const status = await getVideoStatus(pipeline, videoId);
    if (status?.state !== 'completed') {
      problems.push(
        `${videoId} is ${status?.state ?? 'unknown'}${status?.error ? `: ${status.error.code} ${status.error.message}` : ''}`,
      );
      continue;
    }
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    const { sampled } = result.counts;
    if (sampled !== frames || result.counts.analysed + result.counts.failed !== frames)
      problems.push(
        `${videoId}: sampled ${sampled}, analysed ${result.counts.analysed}, failed ${result.counts.failed}; expected ${frames} frames`,
      );
    const indexes = result.frames.map((f) => f.index);
    if (indexes.length !== frames || indexes.some((index, i) => index !== i))
      problems.push(`${videoId}: frame indexes are not 0..${frames - 1} once each`);
    analysed += result.counts.analysed;
    failed += result.counts.failed;
  }
  const held = await heldFrames(pipeline);
  if (held.bytes !== 0 || held.frames !== 0)
    problems.push(`frame budget not back to 0: ${held.bytes} bytes, ${held.frames} frames held`);
  let reservations = 0;
  for (const shard of pipeline.keys.chunkShards) reservations += await pipeline.redis.hlen(shard.heldChunks);
  if (reservations !== 0) problems.push(`${reservations} frame-budget reservations left`);
  const chunks = (await chunkKeysInRedis(pipeline)).length;
  if (chunks !== 0) problems.push(`${chunks} frame chunks left in Redis`);
  return { analysed, failed, problems };
}
