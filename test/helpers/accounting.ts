import { expect } from 'vitest';
import { getVideoResult, getVideoStatus, heldFrames, type Pipeline } from '../../src/pipeline/index.ts';
import type { VideoResult } from '../../src/results/index.ts';

// The exact frame accounting every fault test ends with: each video completed, sampled =
// analysed + failed = the frames its sampling gives, frame indexes 0..N-1 once each, no frame
// bytes left in Redis and the frame budget back to 0.

export interface Accounting {
  readonly analysed: number;
  readonly failed: number;
}

export async function expectExactAccounting(pipeline: Pipeline, expected: ReadonlyArray<{ videoId: string; frames: number }>): Promise<Accounting> {
  let analysed = 0;
  let failed = 0;
  for (const { videoId, frames } of expected) {
    const status = await getVideoStatus(pipeline, videoId);
    expect(status?.state, `${videoId}: ${status?.error?.message ?? ''}`).toBe('completed');
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    expect(result.counts.sampled).toBe(frames);
    expect(result.counts.analysed + result.counts.failed).toBe(frames);
    expect(result.frames.map((f) => f.index)).toEqual(Array.from({ length: frames }, (_, i) => i));
    analysed += result.counts.analysed;
    failed += result.counts.failed;
  }
  expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
  expect(await pipeline.redis.hlen(pipeline.keys.heldChunks)).toBe(0);
  const prefix = pipeline.keys.videoIndex.replace(/:videos$/, '');
  const chunks: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await pipeline.redis.scan(cursor, 'MATCH', `${prefix}:chunk:*`, 'COUNT', 1000);
    chunks.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  expect(chunks).toEqual([]);
  return { analysed, failed };
}
