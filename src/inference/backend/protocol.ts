// Messages between the host (caller's thread) and a session thread. Float32Array buffers travel in
// transfer lists, so a batch tensor moves between threads without being copied.

import type { ExecutionProviderName, TensorInfo } from '../types.ts';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** workerData of a session thread. */
export interface SessionThreadInit {
  readonly modelPath: string;
  /** Tried in order; the first one that can create a session wins. */
  readonly executionProviders: readonly ExecutionProviderName[];
  /** Resolved (intra-op-threads.ts): 0 lets onnxruntime choose. */
  readonly intraOpThreads: number;
  readonly graphOptimizationLevel: GraphOptimizationLevel;
  /** onnxruntime's intra-op threads spin-wait for work between runs (its default) or sleep. */
  readonly threadSpinning: boolean;
  /** onnxruntime's CPU memory arena (keeps its peak allocation for reuse; off: less memory, a little slower). */
  readonly cpuMemoryArena: boolean;
}

export interface WireTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export type HostToThread =
  | { readonly type: 'run'; readonly id: number; readonly inputs: Readonly<Record<string, WireTensor>> }
  | { readonly type: 'close' }
  /** Ends the thread from inside, between onnxruntime calls (see ThreadSessionHost.killThread). */
  | { readonly type: 'exit'; readonly code: number };

export interface ProviderFailure {
  readonly provider: ExecutionProviderName;
  readonly reason: string;
}

export type ThreadToHost =
  | {
      readonly type: 'ready';
      readonly provider: ExecutionProviderName;
      /** Providers that were preferred but could not be used, with onnxruntime's reason. */
      readonly skipped: readonly ProviderFailure[];
      readonly inputs: readonly TensorInfo[];
      readonly outputs: readonly TensorInfo[];
    }
  | { readonly type: 'init-error'; readonly message: string; readonly kind: 'model' | 'provider' }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Record<string, WireTensor> }
  | { readonly type: 'run-error'; readonly id: number; readonly message: string }
  | { readonly type: 'closed' };

/** Buffers that can be moved instead of copied: only when the view spans its whole (non-shared) buffer. */
export function transferables(tensors: Iterable<WireTensor>): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const { data } of tensors) {
    const buffer = data.buffer;
    if (
      buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === buffer.byteLength &&
      !list.includes(buffer)
    ) {
      list.push(buffer);
    }
  }
  return list;
}
