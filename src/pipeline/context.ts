// One Pipeline object per process: the Redis connection, the key layout, the BullMQ queues and
// the pipeline configuration. Producers, workers, the CLI and the HTTP API all go through it.

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { PipelineConfig } from '../config/index.ts';
import { ChunkBufferPool, ChunkConnection } from './chunk-connection.ts';
import { pipelineKeys, type PipelineKeys } from './keys.ts';
import { MARK_PRODUCED, RECONCILE_HELD, RECORD_FRAMES, RESERVE_CHUNK } from './scripts.ts';

export const QUEUE_NAMES = { videos: 'videos', frames: 'frames', finalize: 'finalize' } as const;

/** Job data of the `videos` queue: split this video into frames. */
export interface VideoJobData {
  readonly videoId: string;
}

/** Job data of the `frames` queue: one chunk of consecutive frames stored under `chunkKey`. */
export interface FrameJobData {
  readonly videoId: string;
  readonly chunkKey: string;
  readonly firstIndex: number;
  readonly width: number;
  readonly height: number;
  /** Presentation time of each frame of the chunk, in order (its length is the frame count). */
  readonly timestamps: readonly number[];
  /** When the producer decoded the chunk (ms since epoch), for end-to-end latency. */
  readonly producedAt: number;
}

/** Job data of the `finalize` queue: every frame of the video is done, aggregate it. */
export interface FinalizeJobData {
  readonly videoId: string;
}

type Script = (...args: Array<string | number | Buffer>) => Promise<unknown>;

/** ioredis client with the pipeline's Lua scripts defined as commands. */
export interface PipelineRedis extends Redis {
  reserveChunk: Script;
  recordFrames: Script;
  markProduced: Script;
  reconcileHeld: Script;
}

export interface Pipeline {
  readonly redis: PipelineRedis;
  readonly keys: PipelineKeys;
  readonly config: PipelineConfig;
  readonly queues: { readonly videos: Queue<VideoJobData>; readonly frames: Queue<FrameJobData>; readonly finalize: Queue<FinalizeJobData> };
  /** Reusable buffers that frame chunks are read into (see chunk-connection.ts). */
  readonly chunkPool: ChunkBufferPool;
  /** The binary chunk connection (redis:// URLs), reconnected when it failed; null for other URLs (ioredis is used then). */
  chunkConnection(): ChunkConnection | null;
  /** Options for a BullMQ Worker on this pipeline (connection URL and prefix). */
  workerOptions(): { connection: Redis; prefix: string };
  close(): Promise<void>;
}

export interface PipelineOptions {
  readonly redisUrl: string;
  /** FER_REDIS_PREFIX: every key goes under it. */
  readonly prefix: string;
  readonly config: PipelineConfig;
}

/** Connects to Redis and opens the queues. Close it when done. */
export function createPipeline(options: PipelineOptions): Pipeline {
  // BullMQ requires maxRetriesPerRequest null on connections that block (workers).
  const connect = () => new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const redis = connect() as PipelineRedis;
  redis.defineCommand('reserveChunk', { numberOfKeys: 3, lua: RESERVE_CHUNK });
  redis.defineCommand('recordFrames', { numberOfKeys: 6, lua: RECORD_FRAMES });
  redis.defineCommand('markProduced', { numberOfKeys: 2, lua: MARK_PRODUCED });
  redis.defineCommand('reconcileHeld', { numberOfKeys: 3, lua: RECONCILE_HELD });
  const keys = pipelineKeys(options.prefix);
  const queueOptions = { connection: redis, prefix: keys.bullPrefix };
  const queues = {
    videos: new Queue<VideoJobData>(QUEUE_NAMES.videos, queueOptions),
    frames: new Queue<FrameJobData>(QUEUE_NAMES.frames, queueOptions),
    finalize: new Queue<FinalizeJobData>(QUEUE_NAMES.finalize, queueOptions),
  };
  const extraConnections: Redis[] = [];
  const chunkPool = new ChunkBufferPool();
  let chunkConnection: ChunkConnection | null = null;
  const rawChunks = new URL(options.redisUrl).protocol === 'redis:';
  return {
    redis,
    keys,
    config: options.config,
    queues,
    chunkPool,
    chunkConnection() {
      if (!rawChunks) return null;
      if (chunkConnection === null || !chunkConnection.healthy) {
        chunkConnection?.close();
        chunkConnection = new ChunkConnection(options.redisUrl, chunkPool);
      }
      return chunkConnection;
    },
    workerOptions() {
      // Each BullMQ Worker gets its own connection: it blocks on it while waiting for jobs.
      const connection = connect();
      extraConnections.push(connection);
      return { connection, prefix: keys.bullPrefix };
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
      for (const c of extraConnections) c.disconnect();
      chunkConnection?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
