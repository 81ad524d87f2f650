// Producer: ffprobe + validation, ffmpeg frame stream (rgb24 at the working resolution), and the
// `videos` queue consumer that turns each video into frame chunks in Redis.
export { mediaBinaries, type MediaBinaries } from './binaries.ts';
export { probeVideo, type VideoProbe, type ProbeLimits } from './probe.ts';
export {
  extractFrames,
  extractFrameChunks,
  type SamplingOptions,
  type VideoFrame,
  type FrameChunk,
  type ChunkingOptions,
} from './frames.ts';
export { produceVideo, type ProducerOptions, type ProduceOutcome } from './producer.ts';
export { startProducer, type ProducerHandle } from './producer-service.ts';
export { writeAnnotatedVideo, type AnnotateOptions } from './annotate.ts';
