// The onnxruntime backend: the only module tree that imports onnxruntime-node.
export { createInferenceHost, hostOptionsFromConfig, ThreadSessionHost, type ThreadHostOptions } from './thread-host.ts';
export type { GraphOptimizationLevel } from './protocol.ts';
