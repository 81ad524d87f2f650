// Frame bytes in Redis: one binary value per chunk of consecutive frames (never inside BullMQ's
// JSON job data), with a TTL, counted against a global budget of held bytes. Producers reserve
// room before writing (atomic, so several producers together never exceed the budget) and wait
// while there is none; workers release a chunk once its results are stored. On a Redis Cluster the
// chunks are spread over shards (keys.ts), each with an even share of the budget and its own totals.

import { FerError } from '../core/errors.ts';
import type { Pipeline } from './context.ts';
import { isRedisFull, isRedisUnavailable, redisErrorReason } from './connection-watch.ts';

export interface HeldFrames {
  readonly bytes: number;
  readonly frames: number;
}

/** Frame bytes and frames all producers hold in Redis now (the counters of every shard, not a scan). */
export async function heldFrames(pipeline: Pipeline): Promise<HeldFrames> {
  const perShard = await Promise.all(
    pipeline.keys.chunkShards.map((shard) => pipeline.redis.mget(shard.heldBytes, shard.heldFrames)),
  );
  return perShard.reduce<HeldFrames>(
    (sum, [bytes, frames]) => ({ bytes: sum.bytes + Number(bytes ?? 0), frames: sum.frames + Number(frames ?? 0) }),
    { bytes: 0, frames: 0 },
  );
}

/** The frame budget of one chunk shard: FER_REDIS_FRAME_BUDGET_BYTES split evenly between the shards. */
export function shardFrameBudget(pipeline: Pipeline): number {
  return Math.floor(pipeline.config.redisFrameBudgetBytes / pipeline.keys.chunkShards.length);
}

/**
 * Tries to reserve room for a chunk under its shard's budget. Returns whether it was reserved and
 * the shard's held totals after the attempt (all of them without a cluster).
 */
export async function reserveChunk(
  pipeline: Pipeline,
  chunkKey: string,
  bytes: number,
  frames: number,
): Promise<{ reserved: boolean; held: HeldFrames }> {
  const shard = pipeline.keys.shardOf(chunkKey);
  const [reserved, heldBytes, heldFramesCount] = (await pipeline.redis.reserveChunk(
    shard.heldChunks,
    shard.heldBytes,
    shard.heldFrames,
    chunkKey,
    bytes,
    frames,
    shardFrameBudget(pipeline),
    Date.now(),
  )) as [number, number, number];
  return { reserved: reserved === 1, held: { bytes: heldBytes, frames: heldFramesCount } };
}

/** Deletes a chunk and gives its bytes back to the budget (once, however often it is called). */
export async function releaseChunk(pipeline: Pipeline, chunkKey: string): Promise<void> {
  const shard = pipeline.keys.shardOf(chunkKey);
  await pipeline.redis.releaseChunk(shard.heldChunks, shard.heldBytes, shard.heldFrames, chunkKey);
}

/**
 * Runs `attempt` until it succeeds, retrying (backoff 100 ms … 2 s) while Redis is unreachable or
 * full (maxmemory: it changed nothing), for at most FER_REDIS_OUTAGE_DEADLINE_MS. Only for
 * idempotent operations: a SET or GET of a chunk repeated after a reconnect has the same effect as once.
 */
export async function retryAcrossOutage<T>(pipeline: Pipeline, what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + pipeline.config.redisOutageDeadlineMs;
  let delay = 100;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const full = isRedisFull(error);
      if (!(full || isRedisUnavailable(error))) throw error;
      if (Date.now() + delay > deadline) {
        const why = full ? 'Redis full (its maxmemory reached)' : 'Redis unreachable';
        throw new FerError(
          'redis_unavailable',
          `${what}: ${why} for more than ${pipeline.config.redisOutageDeadlineMs} ms (FER_REDIS_OUTAGE_DEADLINE_MS): ${redisErrorReason(error)}`,
          { cause: error },
        );
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
  const minAgeMs = pipeline.config.frameLeaseSeconds * 1000;
  const released = await Promise.all(
    pipeline.keys.chunkShards.map((shard) =>
      pipeline.redis.reconcileHeld(shard.heldChunks, shard.heldBytes, shard.heldFrames, minAgeMs, Date.now()),
    ),
  );
  return released.reduce<number>((sum, n) => sum + Number(n), 0);
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
export async function reserveChunkWhenRoom(
  pipeline: Pipeline,
  chunkKey: string,
  bytes: number,
  frames: number,
  options: WaitForRoomOptions = {},
): Promise<void> {
  let delay = 1;
  let lastReconcile = Date.now();
  for (;;) {
    // A refused reservation (Redis full or away) changed nothing: wait for Redis as for room.
    const { reserved, held } = await retryAcrossOutage(pipeline, 'reserving room for a frame chunk', () =>
      reserveChunk(pipeline, chunkKey, bytes, frames),
    );
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
