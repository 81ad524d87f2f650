import { describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatcherOptions } from '../../src/inference/batcher.ts';

interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A batcher whose batches are recorded (observer) and double their numbers. */
function doubling(overrides: Partial<BatcherOptions<number, number>> = {}) {
  const batches: number[][] = [];
  const batcher = new DynamicBatcher<number, number>({
    maxBatchSize: 4,
    maxDelayMs: 20,
    maxQueue: 100,
    concurrency: 1,
    runBatch: async (requests) => requests.map((r) => r * 2),
    observer: { onBatch: (e) => void batches.push([...e.requests]) },
    ...overrides,
  });
  return { batcher, batches };
}

describe('DynamicBatcher', () => {
  it('groups requests into batches of at most maxBatchSize and gives each caller its own result', async () => {
    const { batcher, batches } = doubling();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(i)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flat()).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('runs a partial batch once the oldest request has waited maxDelayMs', async () => {
    const { batcher, batches } = doubling({ maxBatchSize: 8, maxDelayMs: 30 });
    const first = batcher.submit(1);
    await new Promise((r) => setTimeout(r, 5));
    const second = batcher.submit(2);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    // Both arrived within the delay of the first, so they shared one batch.
    expect(batches).toEqual([[1, 2]]);
  });

  it('collects requests that arrive while a batch runs into the next batch', async () => {
    const release = gate();
    const batches: number[][] = [];
    const batcher = new DynamicBatcher<number, number>({
      maxBatchSize: 8,
      maxDelayMs: 0,
      maxQueue: 100,
      concurrency: 1,
      runBatch: async (requests) => {
        batches.push([...requests]);
        if (batches.length === 1) await release.opened;
        return [...requests];
      },
    });
    const first = batcher.submit(0);
    await new Promise((r) => setImmediate(r));
    const later = [1, 2, 3].map((i) => batcher.submit(i));
    await new Promise((r) => setImmediate(r));
    expect(batcher.pending).toBe(3);
    release.open();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });

  it('rejects with a clear error when the queue is full', async () => {
    const release = gate();
    const batcher = new DynamicBatcher<number, number>({
      maxBatchSize: 2,
      maxDelayMs: 0,
      maxQueue: 3,
      concurrency: 1,
      runBatch: async (requests) => {
        await release.opened;
        return [...requests];
      },
    });
    const running = [batcher.submit(1), batcher.submit(2)];
    await new Promise((r) => setImmediate(r)); // the first batch leaves the queue
    const waiting = [batcher.submit(3), batcher.submit(4), batcher.submit(5)];
    await expect(batcher.submit(6)).rejects.toThrow(/queue is full: 3 requests waiting \(maxQueue 3\)/);
    await expect(batcher.submit(6)).rejects.toMatchObject({ code: 'queue_full' });
    release.open();
    expect(await Promise.all([...running, ...waiting])).toEqual([1, 2, 3, 4, 5]);
  });

  it('a failing batch fails only its own requests', async () => {
    const { batcher } = doubling({
      maxBatchSize: 2,
      runBatch: async (requests) => {
        if (requests.includes(13)) throw new Error('batch with 13 failed');
        return requests.map((r) => r * 2);
      },
    });
    const settled = await Promise.allSettled([1, 13, 3, 4].map((n) => batcher.submit(n)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[0] as PromiseRejectedResult).reason.message).toBe('batch with 13 failed');
    expect((settled[3] as PromiseFulfilledResult<number>).value).toBe(8);
  });

  it('an Error in one slot fails only that request', async () => {
    const { batcher, batches } = doubling({
      runBatch: async (requests) => requests.map((r) => (r < 0 ? new Error(`negative: ${r}`) : r * 2)),
    });
    const settled = await Promise.allSettled([1, -1, 2].map((n) => batcher.submit(n)));
    expect(batches).toEqual([[1, -1, 2]]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      2,
      'negative: -1',
      4,
    ]);
  });

  it('fails a batch whose function returns the wrong number of results', async () => {
    const { batcher } = doubling({ runBatch: async () => [1] });
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow(
      /returned 1 results for 2 requests/,
    );
  });

  it('runs up to `concurrency` batches at once', async () => {
    let running = 0;
    let peak = 0;
    const release = gate();
    const batcher = new DynamicBatcher<number, number>({
      maxBatchSize: 2,
      maxDelayMs: 0,
      maxQueue: 100,
      concurrency: 3,
      runBatch: async (requests) => {
        running++;
        peak = Math.max(peak, running);
        await release.opened;
        running--;
        return [...requests];
      },
    });
    const all = Array.from({ length: 10 }, (_, i) => batcher.submit(i));
    await new Promise((r) => setImmediate(r));
    expect(batcher.running).toBe(3);
    expect(batcher.pending).toBe(4);
    release.open();
    expect(await Promise.all(all)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(peak).toBe(3);
  });

  it('drain() runs what is queued without waiting for the delay, waits for batches in flight, then refuses requests', async () => {
    const { batcher, batches } = doubling({ maxBatchSize: 4, maxDelayMs: 60_000 });
    const submitted = [1, 2, 3].map((n) => batcher.submit(n));
    await batcher.drain();
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await Promise.all(submitted)).toEqual([2, 4, 6]);
    await expect(batcher.submit(4)).rejects.toMatchObject({ code: 'batcher_closed' });
  });

  it('reports size, queue times and run time per batch, and survives an observer that throws', async () => {
    const events: Array<{ size: number; maxBatchSize: number; queueMs: number[]; runMs: number; error?: Error }> = [];
    const batcher = new DynamicBatcher<number, number>({
      maxBatchSize: 3,
      maxDelayMs: 0,
      maxQueue: 10,
      concurrency: 1,
      runBatch: async (requests) => {
        if (requests.includes(0)) throw new Error('zero');
        return [...requests];
      },
      observer: {
        onBatch: (e) => {
          events.push(e);
          throw new Error('observer bug');
        },
      },
    });
    await expect(batcher.submit(0)).rejects.toThrow('zero');
    expect(await Promise.all([batcher.submit(1), batcher.submit(2)])).toEqual([1, 2]);
    expect(events.map((e) => [e.size, e.maxBatchSize, e.error?.message])).toEqual([
      [1, 3, 'zero'],
      [2, 3, undefined],
    ]);
    expect(events[1]!.queueMs).toHaveLength(2);
    expect(events.every((e) => e.runMs >= 0 && e.queueMs.every((q) => q >= 0))).toBe(true);
  });

  it('validates its options', () => {
    expect(() => doubling({ maxBatchSize: 0 })).toThrow(/maxBatchSize must be an integer ≥ 1, got 0/);
    expect(() => doubling({ maxDelayMs: -1 })).toThrow(/maxDelayMs must be ≥ 0/);
  });
});
