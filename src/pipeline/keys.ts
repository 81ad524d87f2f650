// Redis key layout of the pipeline, in one place. Everything lives under the configured prefix
// (FER_REDIS_PREFIX), so several deployments or test files can share one Redis.
//
// On a Redis Cluster, keys that one Lua script or MULTI touches must share a hash slot. So the
// video records, the indexes and BullMQ's queues sit under one hash tag (`{prefix}`), and the frame
// chunks — nearly all of the bytes — are spread over `chunkShards` hash tags chosen so that their
// slots are evenly spaced over the 16384 slots (each master of an evenly split cluster owns some).
// Each chunk shard keeps its own held-bytes accounting beside its chunks, so reserving and
// releasing a chunk stay single-slot and atomic; the frame budget is split evenly between shards.
// Without a cluster there is one shard and the keys are the plain prefix (no hash tags).

import calculateSlot from 'cluster-key-slot';

/** Where one shard of the frame chunks and its budget accounting live. */
export interface ChunkShard {
  /** Hash: chunk key → "bytes:frames:reservedAtMs" for every chunk counted in this shard's totals. */
  readonly heldChunks: string;
  /** Counters: frame bytes and frames held in this shard. */
  readonly heldBytes: string;
  readonly heldFrames: string;
  /** What every chunk key of a video in this shard starts with. */
  chunkPrefix(videoId: string): string;
}

export interface PipelineKeys {
  /** BullMQ's own prefix (queues live under it). */
  readonly bullPrefix: string;
  /** Hash: the video's record (state, path, options, probe, counts, errors, model). */
  video(videoId: string): string;
  /** Hash: frame index → FrameResult JSON (HSET by index, so a frame stored twice counts once). */
  videoFrames(videoId: string): string;
  /** String: the per-video result JSON, kept for the retention TTL. */
  videoResult(videoId: string): string;
  /** Hash: webhook target ("callback" / "configured") → delivery state JSON. */
  videoWebhooks(videoId: string): string;
  /** String: one binary value with the rgb24 bytes of a chunk of consecutive frames (in the shard chunkShard gives). */
  chunk(videoId: string, sequence: number): string;
  /** The shard a chunk key belongs to. */
  shardOf(chunkKey: string): ChunkShard;
  /** Every chunk shard (one without a cluster). */
  readonly chunkShards: readonly ChunkShard[];
  /** Sorted set: video ids by submission time (for listings). */
  readonly videoIndex: string;
  /** Sorted set: unfinished video ids by the time of their last progress (the recovery sweep finds stuck ones here). */
  readonly activeVideos: string;
  /** String: held by the process running the recovery sweep (one at a time across all processes). */
  readonly recoveryLock: string;
  /** Hash: video id → path of its uploaded file, until the API's sweep deletes the file (video finished). */
  readonly uploads: string;
  /** What the API's rate-limit counters start with (one per token or client address, shared by every API replica). */
  readonly rateLimitPrefix: string;
  /** Sorted set per role (worker, producer): process id → its last heartbeat, ms (heartbeats.ts). */
  heartbeats(role: string): string;
  /** What the API's Idempotency-Key entries start with (one per caller and key, kept 24 h). */
  readonly idempotencyPrefix: string;
}

export interface KeyLayoutOptions {
  /** Redis Cluster: hash-tag the keys and spread the chunks over `chunkShards` shards. */
  readonly cluster?: boolean;
  readonly chunkShards?: number;
}

const SLOTS = 16384;

/**
 * A hash tag for each of `count` shards whose slot lies in the shard's own even share of the slot
 * space (found by trying suffixes; deterministic for a prefix, so every process agrees).
 */
export function chunkShardTags(prefix: string, count: number): string[] {
  const tags: string[] = [];
  for (let shard = 0; shard < count; shard += 1) {
    for (let attempt = 0; ; attempt += 1) {
      const tag = `${prefix}:c${shard}.${attempt}`;
      if (Math.floor((calculateSlot(tag) * count) / SLOTS) === shard) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

export function pipelineKeys(prefix: string, layout: KeyLayoutOptions = {}): PipelineKeys {
  const meta = layout.cluster ? `{${prefix}}` : prefix;
  const shardRoots = layout.cluster
    ? chunkShardTags(prefix, Math.max(1, layout.chunkShards ?? 16)).map((tag) => `{${tag}}`)
    : [prefix];
  const shards: ChunkShard[] = shardRoots.map((root) => ({
    heldChunks: `${root}:frames:held-chunks`,
    heldBytes: `${root}:frames:held-bytes`,
    heldFrames: `${root}:frames:held-frames`,
    chunkPrefix: (id) => `${root}:chunk:${id}:`,
  }));
  const byRoot = new Map(shardRoots.map((root, i) => [root, shards[i]!]));
  // Consecutive chunks of a video go to consecutive shards, starting at a place given by the video
  // id: one video in flight already spreads over every shard.
  const shardFor = (videoId: string, sequence: number) => shards[(calculateSlot(videoId) + sequence) % shards.length]!;
  return {
    bullPrefix: `${meta}:bull`,
    video: (id) => `${meta}:video:${id}`,
    videoFrames: (id) => `${meta}:video:${id}:frames`,
    videoResult: (id) => `${meta}:video:${id}:result`,
    videoWebhooks: (id) => `${meta}:video:${id}:webhooks`,
    chunk: (id, sequence) => `${shardFor(id, sequence).chunkPrefix(id)}${sequence}`,
    shardOf: (chunkKey) => {
      const root = chunkKey.slice(0, chunkKey.indexOf(':chunk:'));
      const shard = byRoot.get(root);
      if (!shard) throw new Error(`not a chunk key of this layout: ${chunkKey}`);
      return shard;
    },
    chunkShards: shards,
    videoIndex: `${meta}:videos`,
    activeVideos: `${meta}:videos:active`,
    recoveryLock: `${meta}:recovery:lock`,
    uploads: `${meta}:uploads`,
    rateLimitPrefix: `${meta}:api:rate-limit:`,
    idempotencyPrefix: `${meta}:api:idempotency:`,
    heartbeats: (role) => `${meta}:heartbeats:${role}`,
  };
}
