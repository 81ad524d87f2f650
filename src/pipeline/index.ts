// Pipeline core: the Redis/BullMQ side shared by producers, workers, the CLI and the HTTP API —
// queues and job data, frame chunks in Redis under a byte budget, video records and results.
export {
  createPipeline,
  QUEUE_NAMES,
  type JobWorkerOptions,
  type Pipeline,
  type PipelineOptions,
  type VideoJobData,
  type FrameJobData,
  type FinalizeJobData,
  type WebhookJobData,
} from './context.ts';
export { pipelineKeys, chunkShardTags, type PipelineKeys, type ChunkShard } from './keys.ts';
export { parseNodes, isCluster, type RedisNode, type RedisTopology } from './connections.ts';
export {
  heldFrames,
  shardFrameBudget,
  releaseChunk,
  reserveChunk,
  reserveChunkWhenRoom,
  writeChunk,
  readChunk,
  releaseChunkBuffer,
  reconcileHeld,
  retryAcrossOutage,
  type HeldFrames,
} from './frame-store.ts';
export {
  recordChunkFailed,
  describeJobFailure,
  PENDING_JOB_STATES,
  sweepOnce,
  startRecovery,
  type RecoveryReport,
  type RecoveryHandle,
  type RecoveryLog,
} from './recovery.ts';
export {
  watchConnection,
  redisErrorReason,
  reportQueueError,
  isRedisFull,
  isRedisUnavailable,
  type ConnectionEvents,
} from './connection-watch.ts';
export {
  submitVideo,
  getVideoStatus,
  getVideoResult,
  listVideoIds,
  resolveVideoOptions,
  addVideoJob,
  awaitAcceptance,
  decodeErrorsOf,
  type VideoState,
  type VideoStatus,
  type VideoOptions,
  storedVideoOptions,
  type ResolvedVideoOptions,
  type SubmitVideoInput,
} from './videos.ts';
export {
  updateVideo,
  failVideo,
  recordFrameResults,
  markVideoProduced,
  enqueueFinalize,
  loadFrameResults,
  loadVideoRecord,
  storeVideoResult,
  touchVideo,
  releaseVideoChunks,
  doneFrameIndexes,
  type RecordFramesOutcome,
} from './video-progress.ts';
export {
  addSegmentJobs,
  beginSegment,
  markSegmentProduced,
  segmentJobId,
  segmentPlanOf,
  unfinishedSegments,
  type Segment,
} from './segments.ts';
export {
  startHeartbeat,
  servicesSeen,
  missingServiceWarnings,
  SERVICE_ROLES,
  HEARTBEAT_INTERVAL_MS,
  type ServiceRole,
  type Heartbeat,
} from './heartbeats.ts';
export { waitForVideos, type WaitOptions } from './wait.ts';
export { redisMemory, type RedisMemory } from './redis-memory.ts';
export { backlogExporter, readBacklog, BACKLOG_LEASE_MS, type Backlog } from './backlog.ts';
export { enqueueWebhooks, recordDelivery, webhookDeliveries, type WebhookDelivery } from './webhooks.ts';
export {
  listVideos,
  cancelVideo,
  CANCELLED_CODE,
  deleteVideo,
  heldChunkJobIds,
  purgeDeletedVideoChunks,
  pruneVideoIndex,
  type ListVideosOptions,
  type VideoPage,
  type DeleteOutcome,
} from './manage.ts';
export { ChunkConnection, ChunkBufferPool } from './chunk-connection.ts';
