// Worker: the frame-chunk consumer around an injected FrameAnalyzer, the per-video aggregation,
// the whole-frame analyzer adapter and a cost-free analyzer for overhead measurements.
export { startWorker, processFrameChunk, type WorkerOptions, type WorkerHandle } from './worker.ts';
export { finalizeVideo, type FinalizeOptions } from './aggregator.ts';
export { WholeFrameAnalyzer } from './whole-frame.ts';
export { CostFreeAnalyzer, COST_FREE_LABELS, type CostFreeAnalyzerOptions } from './cost-free.ts';
export { frameOrigin, tagFrame, type FrameOrigin } from './frame-origin.ts';
