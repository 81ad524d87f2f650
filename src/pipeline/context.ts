// One Pipeline object per process: the Redis connection, the key layout, the BullMQ queues and
// the pipeline configuration. Producers, workers, the CLI and the HTTP API all go through it.

import { Queue } from 'bullmq';
import type { PipelineConfig } from '../config/index.ts';
import { ChunkBufferPool, ChunkConnection, type ChunkStore } from './chunk-connection.ts';
import { ClusterChunkRouter } from './cluster-chunks.ts';
import type { ConnectionEvents } from './connection-watch.ts';
import { connectionFactory, isCluster, type RedisClient, type RedisTopology } from './connections.ts';
import { pipelineKeys, type PipelineKeys } from './keys.ts';
import {
  ACCEPT_VIDEO,
  MARK_PRODUCED,
  MARK_SEGMENT_PRODUCED,
  RECONCILE_HELD,
  RECORD_FRAMES,
  RELEASE_CHUNK,
  RELEASE_VIDEO_CHUNKS,
  RESERVE_CHUNK,
  TOUCH_VIDEO,
  UPDATE_OPEN_VIDEO,
} from './scripts.ts';

export const QUEUE_NAMES = { videos: 'videos', frames: 'frames', finalize: 'finalize', webhooks: 'webhooks' } as const;

/** Job data of the `videos` queue: split this video into frames. */
export interface VideoJobData {
  readonly videoId: string;
  /** Set on the jobs of a video split into segments (src/pipeline/segments.ts): which one to produce. */
  readonly segment?: number;
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

/**
 * Job data of the `webhooks` queue: tell `url` that the video ended (target: which endpoint, for the delivery state).
 */
export interface WebhookJobData {
  readonly videoId: string;
  readonly event: 'video.completed' | 'video.failed';
  readonly target: 'callback' | 'configured';
  readonly url: string;
}

/** Job data of the `finalize` queue: every frame of the video is done, aggregate it. */
export interface FinalizeJobData {
  readonly videoId: string;
}

type Script = (...args: Array<string | number | Buffer>) => Promise<unknown>;

/** The pipeline's Lua scripts, defined as commands on its connection. */
export interface PipelineScripts {
  reserveChunk: Script;
  recordFrames: Script;
  releaseChunk: Script;
  markProduced: Script;
  markSegmentProduced: Script;
  reconcileHeld: Script;
  releaseVideoChunks: Script;
  touchVideo: Script;
  acceptVideo: Script;
  updateOpenVideo: Script;
}

/** ioredis client (one server or a cluster) with the pipeline's Lua scripts defined as commands. */
export type PipelineRedis = RedisClient & PipelineScripts;

/** BullMQ Worker options of every pipeline worker: its own connection, the prefix, and the lock and stall settings. */
export interface JobWorkerOptions {
  readonly connection: RedisClient;
  readonly prefix: string;
  readonly lockDuration: number;
  readonly stalledInterval: number;
  readonly maxStalledCount: number;
}

export interface Pipeline {
  readonly redis: PipelineRedis;
  readonly keys: PipelineKeys;
  readonly config: PipelineConfig;
  readonly queues: {
    readonly videos: Queue<VideoJobData>;
    readonly frames: Queue<FrameJobData>;
    readonly finalize: Queue<FinalizeJobData>;
    readonly webhooks: Queue<WebhookJobData>;
  };
  /** Reusable buffers that frame chunks are read into (see chunk-connection.ts). */
  readonly chunkPool: ChunkBufferPool;
  /**
   * The binary chunk client (redis:// URLs; per master on a cluster), reconnected when it failed; null for other URLs
   * (ioredis is used then).
   */
  chunkConnection(): ChunkStore | null;
  /** Options for a BullMQ Worker on this pipeline (its own connection, prefix, lock and stall settings). */
  workerOptions(): JobWorkerOptions;
  close(): Promise<void>;
}

export interface PipelineOptions extends RedisTopology {
  /** FER_REDIS_PREFIX: every key goes under it. */
  readonly prefix: string;
  readonly config: PipelineConfig;
  /** Told of each Redis outage once (lost) and of its end (restored), per connection. */
  readonly connectionEvents?: ConnectionEvents;
  /**
   * Fail commands at once while Redis is unreachable and never resend one after a reconnect
   * (the API: a request it answered 503 must not run later). Default: commands wait for Redis.
   */
  readonly failFast?: boolean;
}

/** Connects to Redis and opens the queues. Close it when done. */
export function createPipeline(options: PipelineOptions): Pipeline {
  const connect = connectionFactory(options, options.connectionEvents ?? {});
  const sentinel = options.sentinel;
  const redis = connect(options.failFast) as PipelineRedis;
  redis.defineCommand('reserveChunk', { numberOfKeys: 3, lua: RESERVE_CHUNK });
  redis.defineCommand('recordFrames', { numberOfKeys: 3, lua: RECORD_FRAMES });
  redis.defineCommand('releaseChunk', { numberOfKeys: 4, lua: RELEASE_CHUNK });
  redis.defineCommand('markProduced', { numberOfKeys: 2, lua: MARK_PRODUCED });
  redis.defineCommand('markSegmentProduced', { numberOfKeys: 2, lua: MARK_SEGMENT_PRODUCED });
  redis.defineCommand('reconcileHeld', { numberOfKeys: 3, lua: RECONCILE_HELD });
  redis.defineCommand('releaseVideoChunks', { numberOfKeys: 3, lua: RELEASE_VIDEO_CHUNKS });
  redis.defineCommand('touchVideo', { numberOfKeys: 2, lua: TOUCH_VIDEO });
  redis.defineCommand('acceptVideo', { numberOfKeys: 3, lua: ACCEPT_VIDEO });
  redis.defineCommand('updateOpenVideo', { numberOfKeys: 2, lua: UPDATE_OPEN_VIDEO });
  const keys = pipelineKeys(
    options.prefix,
    options.cluster ? { cluster: true, chunkShards: options.config.redisChunkShards } : {},
  );
  const queueOptions = { connection: redis, prefix: keys.bullPrefix };
  const queues = {
    videos: new Queue<VideoJobData>(QUEUE_NAMES.videos, queueOptions),
    frames: new Queue<FrameJobData>(QUEUE_NAMES.frames, queueOptions),
    finalize: new Queue<FinalizeJobData>(QUEUE_NAMES.finalize, queueOptions),
    webhooks: new Queue<WebhookJobData>(QUEUE_NAMES.webhooks, queueOptions),
  };
  // Connection errors are the connection watcher's to report (once per outage); without a
  // listener a queue would print each one.
  for (const queue of Object.values(queues)) queue.on('error', () => undefined);
  const extraConnections: RedisClient[] = [];
  const chunkPool = new ChunkBufferPool();
  let chunkStore: ChunkStore | null = null;
  const rawChunks = new URL(options.redisUrl).protocol === 'redis:';
  return {
    redis,
    keys,
    config: options.config,
    queues,
    chunkPool,
    chunkConnection() {
      if (!rawChunks) return null;
      if (chunkStore === null || !chunkStore.healthy) {
        chunkStore?.close();
        chunkStore = null;
        if (isCluster(redis)) {
          chunkStore = new ClusterChunkRouter(redis, new URL(options.redisUrl), chunkPool);
        } else if (sentinel) {
          // The master is where the main connection is now; while it is reconnecting (a
          // failover), chunks go through ioredis, which waits for the new master.
          const { stream } = redis;
          if (redis.status !== 'ready' || !stream.remoteAddress || !stream.remotePort) return null;
          const master = new URL(options.redisUrl);
          master.hostname = stream.remoteAddress.includes(':') ? `[${stream.remoteAddress}]` : stream.remoteAddress;
          master.port = String(stream.remotePort);
          chunkStore = new ChunkConnection(master.toString(), chunkPool);
        } else {
          chunkStore = new ChunkConnection(options.redisUrl, chunkPool);
        }
      }
      return chunkStore;
    },
    workerOptions() {
      // Each BullMQ Worker gets its own connection: it blocks on it while waiting for jobs.
      const connection = connect();
      extraConnections.push(connection);
      const c = options.config;
      return {
        connection,
        prefix: keys.bullPrefix,
        lockDuration: c.lockDurationMs,
        stalledInterval: c.stalledIntervalMs,
        maxStalledCount: c.maxStalledCount,
      };
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
      for (const c of extraConnections) c.disconnect();
      chunkStore?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
