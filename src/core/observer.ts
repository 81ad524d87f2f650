// The pipeline reports what happens through this interface; src/metrics implements it with
// Prometheus metrics, tests implement it to look inside. Every hook is optional and must not throw.

export type InferenceStage = 'detect' | 'classify' | 'embed';

export interface PipelineObserver {
  videoSubmitted?(): void;
  videoCompleted?(event: { durationMs: number; frames: number }): void;
  videoFailed?(event: { reason: string }): void;
  /** `reusedFaces`: those of its faces whose classification was an earlier frame's (FER_REUSE_MAX_FRAMES). */
  frameProcessed?(event: { faces: number; reusedFaces?: number; queueWaitMs: number; endToEndMs: number }): void;
  frameFailed?(event: { reason: string }): void;
  /** One batched inference run. */
  inferenceBatch?(event: {
    stage: InferenceStage;
    provider: string;
    batchSize: number;
    maxBatchSize: number;
    durationMs: number;
  }): void;
  /** Frame bytes currently held in Redis by this producer (absolute values, not deltas). */
  framesHeld?(event: { frames: number; bytes: number }): void;
  /** Fraction of wall time inference threads were busy since the last report (0..1). */
  inferenceBusy?(event: { stage: InferenceStage; busyRatio: number }): void;
  /**
   * One webhook attempt: `delivered` (a 2xx), `retrying` (it will be tried again) or `failed` (its
   * last attempt). `target`: a submission's `callback`, or the operator's `configured` endpoint.
   */
  webhookAttempt?(event: { target: 'callback' | 'configured'; outcome: 'delivered' | 'retrying' | 'failed' }): void;
}

/** Fans one event out to several observers (e.g. metrics and a test's recorder). */
export function combineObservers(...observers: Array<PipelineObserver | undefined>): PipelineObserver {
  const present = observers.filter((o): o is PipelineObserver => o !== undefined);
  const fanOut = <K extends keyof PipelineObserver>(key: K) =>
    ((event: never) => {
      for (const o of present) (o[key] as ((e: never) => void) | undefined)?.call(o, event);
    }) as NonNullable<PipelineObserver[K]>;
  return {
    videoSubmitted: fanOut('videoSubmitted'),
    videoCompleted: fanOut('videoCompleted'),
    videoFailed: fanOut('videoFailed'),
    frameProcessed: fanOut('frameProcessed'),
    frameFailed: fanOut('frameFailed'),
    inferenceBatch: fanOut('inferenceBatch'),
    framesHeld: fanOut('framesHeld'),
    inferenceBusy: fanOut('inferenceBusy'),
    webhookAttempt: fanOut('webhookAttempt'),
  };
}
