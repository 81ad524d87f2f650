// The onnxruntime backend: the only module tree that imports onnxruntime-node. The main thread
// never loads onnxruntime through this index (sessions live in worker threads); baselines import
// ./direct-session.ts explicitly.
export {
  abandonQueuedInference,
  createInferenceHost,
  INFERENCE_ABANDONED,
  hostOptionsFromConfig,
  ThreadSessionHost,
  type ThreadHostOptions,
} from './thread-host.ts';
export type { GraphOptimizationLevel } from './protocol.ts';
export { resolveIntraOpThreads, type IntraOpThreadsSetting } from './intra-op-threads.ts';
