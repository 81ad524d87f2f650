// An analyzer that costs (almost) nothing, for measuring the pipeline's own overhead
// (bench/overhead.ts) and for plumbing tests. Not a model: its "probabilities" are derived from
// the frame's mean colour so that results still depend on the pixels that travelled. Requests
// go through the real dynamic batcher, so batch composition across videos can be observed.

import type { FrameAnalysis, FrameAnalyzer, ModelInfo, RgbImage } from '../core/types.ts';
import { DynamicBatcher } from '../inference/batcher.ts';
import type { BatchObserver } from '../inference/types.ts';

export const COST_FREE_LABELS = ['red', 'green', 'blue'] as const;

export interface CostFreeAnalyzerOptions {
  readonly maxBatchSize?: number;
  readonly maxDelayMs?: number;
  /** Simulated inference time per batch (ms): slow workers for backpressure tests. */
  readonly batchDelayMs?: number;
  /** Fail frames whose (first pixel's red value) equals this, to exercise failure handling. */
  readonly failWhenRedIs?: number;
  readonly batchObserver?: BatchObserver<RgbImage>;
}

export class CostFreeAnalyzer implements FrameAnalyzer {
  readonly info: ModelInfo = {
    name: 'cost-free',
    labels: [...COST_FREE_LABELS],
    preprocessing: { kind: 'mean colour, sampled pixels' },
    detector: null,
  };
  private readonly batcher: DynamicBatcher<RgbImage, FrameAnalysis>;

  constructor(private readonly options: CostFreeAnalyzerOptions = {}) {
    this.batcher = new DynamicBatcher<RgbImage, FrameAnalysis>({
      name: 'cost-free',
      maxBatchSize: options.maxBatchSize ?? 32,
      maxDelayMs: options.maxDelayMs ?? 2,
      maxQueue: 100_000,
      concurrency: 2,
      runBatch: async (frames) => {
        if (options.batchDelayMs) await new Promise((resolve) => setTimeout(resolve, options.batchDelayMs));
        return frames.map((frame) => this.classify(frame));
      },
      ...(options.batchObserver ? { observer: options.batchObserver } : {}),
    });
  }

  analyze(frame: RgbImage): Promise<FrameAnalysis> {
    return this.batcher.submit(frame);
  }

  close(): Promise<void> {
    return this.batcher.drain();
  }

  private classify(frame: RgbImage): FrameAnalysis | Error {
    const { data } = frame;
    if (this.options.failWhenRedIs !== undefined && data[0] === this.options.failWhenRedIs)
      return new Error('injected failure (cost-free analyzer)');
    // 256 pixels spread over the frame: enough to depend on the content, cheap enough to cost nothing.
    const pixels = data.length / 3;
    const stride = Math.max(1, Math.floor(pixels / 256)) * 3;
    let r = 1;
    let g = 1;
    let b = 1;
    for (let p = 0; p + 2 < data.length; p += stride) {
      r += data[p]!;
      g += data[p + 1]!;
      b += data[p + 2]!;
    }
    const total = r + g + b;
    const probabilities = [r / total, g / total, b / total];
    let best = 0;
    for (let i = 1; i < 3; i++) if (probabilities[i]! > probabilities[best]!) best = i;
    return {
      faces: [
        {
          probabilities,
          label: COST_FREE_LABELS[best]!,
          labelIndex: best,
          box: { x: 0, y: 0, width: frame.width, height: frame.height },
          detectorScore: null,
        },
      ],
    };
  }
}
