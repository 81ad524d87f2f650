// A session on the caller's own thread, for baselines only (bench/inference.ts measures the thread
// host and batcher against plain `session.run` in a loop). `run` blocks the calling thread for the
// whole inference: never use this in the pipeline, where sessions belong to ThreadSessionHost.

import * as ort from 'onnxruntime-node';
import type { Tensor, TensorMap } from '../types.ts';
import { resolveIntraOpThreads, type IntraOpThreadsSetting } from './intra-op-threads.ts';
import type { GraphOptimizationLevel } from './protocol.ts';

export interface DirectSession {
  run(inputs: TensorMap): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export async function openDirectSession(
  modelPath: string,
  options: { intraOpThreads: IntraOpThreadsSetting; graphOptimizationLevel: GraphOptimizationLevel },
): Promise<DirectSession> {
  ort.env.logLevel = 'fatal';
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: resolveIntraOpThreads(options.intraOpThreads).threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.graphOptimizationLevel,
  });
  return {
    async run(inputs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, [...t.dims]);
      const results = await session.run(feeds);
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(results)) out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
      return out;
    },
    release: () => session.release(),
  };
}
