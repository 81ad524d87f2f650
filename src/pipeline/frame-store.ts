// Frame bytes in Redis: one binary value per chunk of consecutive frames (never inside BullMQ's
// JSON job data), with a TTL, counted against a global budget of held bytes. Producers reserve
// room before writing (atomic, so several producers together never exceed the budget) and wait
// while there is none; workers release a chunk in the same script that stores its results.

import { FerError } from '../core/types.ts';
import type { Pipeline } from './context.ts';
import { isRedisUnavailable, redisErrorReason } from './connection-watch.ts';

export interface HeldFrames {
  readonly bytes: number;
  readonly frames: number;
}

/** Frame bytes and frames all producers hold in Redis now (the counters, not a scan). */
export async function heldFrames(pipeline: Pipeline): Promise<HeldFrames> {
  const [bytes, frames] = await pipeline.redis.mget(pipeline.keys.heldBytes, pipeline.keys.heldFrames);
  return { bytes: Number(bytes ?? 0), frames: Number(frames ?? 0) };
}

/**
 * Tries to reserve room for a chunk under the budget. Returns whether it was reserved and the
 * held totals after the attempt.
 */
export async function reserveChunk(pipeline: Pipeline, chunkKey: string, bytes: number, frames: number): Promise<{ reserved: boolean; held: HeldFrames }> {
  const k = pipeline.keys;
  const [reserved, heldBytes, heldFramesCount] = (await pipeline.redis.reserveChunk(
    k.heldChunks,
    k.heldBytes,
    k.heldFrames,
    chunkKey,
    bytes,
    frames,
    pipeline.config.redisFrameBudgetBytes,
    Date.now(),
  )) as [number, number, number];
  return { reserved: reserved === 1, held: { bytes: heldBytes, frames: heldFramesCount } };
}

/**
 * Runs `attempt` until it succeeds, retrying (backoff 100 ms … 2 s) while Redis is unreachable,
 * for at most FER_REDIS_OUTAGE_DEADLINE_MS. Only for idempotent operations: a SET or GET of a
 * chunk repeated after a reconnect has the same effect as once.
 */
export async function retryAcrossOutage<T>(pipeline: Pipeline, what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + pipeline.config.redisOutageDeadlineMs;
  let delay = 100;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRedisUnavailable(error) || Date.now() + delay > deadline) {
        if (isRedisUnavailable(error)) {
          throw new FerError('redis_unavailable', `${what}: Redis unreachable for more than ${pipeline.config.redisOutageDeadlineMs} ms (FER_REDIS_OUTAGE_DEADLINE_MS): ${redisErrorReason(error)}`, { cause: error });
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(2000, delay * 2);
    }
  }
}

/** Writes a reserved chunk's bytes with the chunk TTL; retried across a Redis outage (a SET twice is one). */
export async function writeChunk(pipeline: Pipeline, chunkKey: string, data: Buffer): Promise<void> {
  await retryAcrossOutage(pipeline, 'writing a frame chunk', async () => {
    const connection = pipeline.chunkConnection();
    if (connection) await connection.set(chunkKey, data, pipeline.config.chunkTtlSeconds);
    else await pipeline.redis.set(chunkKey, data, 'EX', pipeline.config.chunkTtlSeconds);
  });
}

/**
 * The chunk's bytes, or null when it is gone (expired, or already consumed by another attempt).
 * The buffer comes from the pipeline's pool: hand it back with releaseChunkBuffer once nothing
 * reads it any more (the frames' analysis has finished).
 */
export async function readChunk(pipeline: Pipeline, chunkKey: string): Promise<Buffer | null> {
  return retryAcrossOutage(pipeline, 'reading a frame chunk', () => {
    const connection = pipeline.chunkConnection();
    return connection ? connection.get(chunkKey) : pipeline.redis.getBuffer(chunkKey);
  });
}

/** Returns a buffer from readChunk to the pool for the next chunk. */
export function releaseChunkBuffer(pipeline: Pipeline, buffer: Buffer): void {
  pipeline.chunkPool.release(buffer);
}

/**
 * Gives back reservations whose chunk value is gone — expired unread, or never written because
 * its producer died or lost Redis — once they are older than the lease (FER_FRAME_LEASE_SECONDS),
 * so the budget cannot leak. The recovery sweep runs it continuously.
 */
export async function reconcileHeld(pipeline: Pipeline): Promise<number> {
  const k = pipeline.keys;
  return Number(await pipeline.redis.reconcileHeld(k.heldChunks, k.heldBytes, k.heldFrames, pipeline.config.frameLeaseSeconds * 1000, Date.now()));
}

export interface WaitForRoomOptions {
  readonly signal?: AbortSignal;
  /** Called with the held totals after every attempt (metrics: framesHeld). */
  readonly onHeld?: (held: HeldFrames) => void;
}

/**
 * Reserves room for a chunk, waiting (polling with backoff up to 50 ms) while the budget is full.
 * This is the producer's backpressure: it resumes as workers release chunks.
 */
export async function reserveChunkWhenRoom(pipeline: Pipeline, chunkKey: string, bytes: number, frames: number, options: WaitForRoomOptions = {}): Promise<void> {
  let delay = 1;
  let lastReconcile = Date.now();
  for (;;) {
    const { reserved, held } = await reserveChunk(pipeline, chunkKey, bytes, frames);
    options.onHeld?.(held);
    if (reserved) return;
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    if (Date.now() - lastReconcile > 5_000) {
      lastReconcile = Date.now();
      await reconcileHeld(pipeline);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(50, delay * 2);
  }
}
