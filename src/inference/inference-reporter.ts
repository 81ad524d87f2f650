import { performance } from 'node:perf_hooks';
import type { InferenceStage, PipelineObserver } from '../core/observer.ts';
import type { InferenceHost } from './types.ts';

/**
 * Tells the pipeline observer about each batched run of one model (classifier or detector):
 * an `inferenceBatch` event per run and, at most every `busyReportMs`, the share of wall time
 * its host's threads were busy. Observers must not throw; a broken one never fails inference.
 */
export class InferenceReporter {
  private mark = { at: performance.now(), busy: 0 };

  constructor(
    private readonly options: {
      readonly stage: InferenceStage;
      readonly host: InferenceHost;
      readonly maxBatchSize: number;
      readonly observer?: PipelineObserver | undefined;
      readonly busyReportMs?: number | undefined;
      readonly onObserverError?: ((error: unknown) => void) | undefined;
    },
  ) {}

  batch(batchSize: number, durationMs: number): void {
    const { observer, stage, host } = this.options;
    if (observer === undefined) return;
    try {
      observer.inferenceBatch?.({
        stage,
        provider: host.executionProvider,
        batchSize,
        maxBatchSize: this.options.maxBatchSize,
        durationMs,
      });
      const now = performance.now();
      const elapsed = now - this.mark.at;
      if (elapsed >= (this.options.busyReportMs ?? 1000)) {
        const busy = host.busyMs().reduce((a, b) => a + b, 0);
        const busyRatio = Math.min(1, Math.max(0, (busy - this.mark.busy) / (elapsed * host.threads)));
        this.mark = { at: now, busy };
        observer.inferenceBusy?.({ stage, busyRatio });
      }
    } catch (error) {
      this.options.onObserverError?.(error);
    }
  }
}
