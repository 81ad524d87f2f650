// Dynamic batching in the spirit of Triton's dynamic batcher: single requests from any caller are
// collected until `maxBatchSize` is reached or the oldest has waited `maxDelayMs`, then run as one
// batch. Up to `concurrency` batches run at once (one per inference thread), so while one batch
// runs the next one fills, and threads never wait for the queue to be looked at.

import { performance } from 'node:perf_hooks';
import { FerError } from '../core/errors.ts';
import type { Batcher, BatchObserver } from './types.ts';

export interface BatcherOptions<TRequest, TResult> {
  readonly maxBatchSize: number;
  /** How long the oldest request may wait for others before its batch runs anyway. */
  readonly maxDelayMs: number;
  /** Requests allowed to wait (not yet running); more are rejected with a `queue_full` error. */
  readonly maxQueue: number;
  /** Batches allowed to run at the same time; set it to the number of inference threads. */
  readonly concurrency: number;
  /**
   * Runs one batch: one result per request, in order. An `Error` in a slot fails only that
   * request; a rejection fails every request of this batch (and no other).
   */
  readonly runBatch: (requests: readonly TRequest[]) => Promise<ReadonlyArray<TResult | Error>>;
  readonly observer?: BatchObserver<TRequest>;
  /** Named in errors, e.g. the model name. */
  readonly name?: string;
}

interface Waiting<TRequest, TResult> {
  readonly request: TRequest;
  readonly enqueuedAt: number;
  readonly resolve: (result: TResult) => void;
  readonly reject: (error: Error) => void;
}

export class DynamicBatcher<TRequest, TResult> implements Batcher<TRequest, TResult> {
  private readonly queue: Array<Waiting<TRequest, TResult>> = [];
  private inFlight = 0;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private drainWaiters: Array<() => void> = [];
  private readonly label: string;

  constructor(private readonly options: BatcherOptions<TRequest, TResult>) {
    for (const key of ['maxBatchSize', 'maxQueue', 'concurrency'] as const) {
      const value = options[key];
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`batcher ${key} must be an integer ≥ 1, got ${value}`);
    }
    if (!(options.maxDelayMs >= 0)) throw new RangeError(`batcher maxDelayMs must be ≥ 0, got ${options.maxDelayMs}`);
    this.label = options.name ? `batcher "${options.name}"` : 'batcher';
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get running(): number {
    return this.inFlight;
  }

  submit(request: TRequest): Promise<TResult> {
    if (this.draining)
      return Promise.reject(
        new FerError('batcher_closed', `${this.label} is shutting down and accepts no new requests`),
      );
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new FerError(
          'queue_full',
          `${this.label} queue is full: ${this.queue.length} requests waiting (maxQueue ${this.options.maxQueue}); retry later or raise FER_MAX_QUEUE`,
        ),
      );
    }
    return new Promise<TResult>((resolve, reject) => {
      this.queue.push({ request, enqueuedAt: performance.now(), resolve, reject });
      // Requests submitted in the same tick join one batch: look at the queue after this tick's
      // synchronous code, not on every submit.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.schedule();
        });
      }
    });
  }

  drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  private schedule(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const { maxBatchSize, maxDelayMs, concurrency } = this.options;
    while (this.inFlight < concurrency && this.queue.length > 0) {
      const waited = performance.now() - this.queue[0]!.enqueuedAt;
      const full = this.queue.length >= maxBatchSize;
      if (!full && !this.draining && waited < maxDelayMs) {
        // Not full yet and the oldest request may still wait: come back when its delay is up.
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.schedule();
          },
          Math.max(0, maxDelayMs - waited),
        );
        return;
      }
      void this.runOne(this.queue.splice(0, maxBatchSize));
    }
    if (this.draining && this.idle()) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async runOne(batch: Array<Waiting<TRequest, TResult>>): Promise<void> {
    this.inFlight++;
    const start = performance.now();
    const requests = batch.map((w) => w.request);
    let error: Error | undefined;
    try {
      const results = await this.options.runBatch(requests);
      if (results.length !== batch.length) {
        throw new Error(
          `${this.label}: batch function returned ${results.length} results for ${batch.length} requests`,
        );
      }
      batch.forEach((waiting, i) => {
        const result = results[i]!;
        if (result instanceof Error) waiting.reject(result);
        else waiting.resolve(result);
      });
    } catch (caught) {
      error = caught instanceof Error ? caught : new Error(String(caught));
      for (const waiting of batch) waiting.reject(error);
    }
    const runMs = performance.now() - start;
    this.inFlight--;
    try {
      this.options.observer?.onBatch?.({
        size: batch.length,
        maxBatchSize: this.options.maxBatchSize,
        queueMs: batch.map((w) => start - w.enqueuedAt),
        runMs,
        requests,
        ...(error ? { error } : {}),
      });
    } catch {
      // Observers must not throw; one that does must not break batching.
    }
    this.schedule();
  }
}
