// Worker threads that fill batch tensors: the batch buffer moves to a thread (transfer list), the
// thread writes every image of the batch into its slot with preprocessInto, and the buffer moves
// back. No copy of the tensor is made on the way; each input is copied once into a buffer of its
// own, which moves to the thread too.

import { Worker } from 'node:worker_threads';
import { FerError, isErrorCode } from '../core/errors.ts';
import type { PreprocessReply, PreprocessRequest, PreprocessThreadInit } from './preprocess-thread.ts';
import type { ImageInput, PreprocessorConfig } from './types.ts';

// Compiled (bin/compile.js), the thread runs preprocess-thread.js; from the sources, the .mjs shim registers tsx first.
const THREAD_ENTRY = new URL(
  import.meta.url.endsWith('.js') ? './preprocess-thread.js' : './preprocess-thread.mjs',
  import.meta.url,
);

export interface FilledBatch {
  /** The batch tensor (the one passed in, moved back from the thread). */
  readonly out: Float32Array;
  /** Per image: undefined when it was written, else why it could not be. */
  readonly errors: ReadonlyArray<Error | undefined>;
}

interface Pending {
  readonly resolve: (batch: FilledBatch) => void;
  readonly reject: (error: Error) => void;
}

interface PoolThread {
  worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Its module loaded; a thread that dies before that is not restarted (it would die again). */
  ready: boolean;
  broken: Error | undefined;
}

/**
 * Each image's bytes in a buffer of its own, moved to the thread (transfer list). Frames are views
 * into a chunk of up to tens of MB, and cloning a view clones its whole buffer: a batch of 8 frames
 * of one 32-frame chunk sent 10 MB (7 ms of the main thread, the same again to read it there) where
 * 2.5 MB are needed; copying the views costs ≈1 ms and the thread reads them in place.
 */
function ownedCopies(images: readonly ImageInput[]): { sent: ImageInput[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const sent = images.map((image): ImageInput => {
    const bytes = new Uint8Array(image instanceof Uint8Array ? image : image.data);
    transfer.push(bytes.buffer);
    return image instanceof Uint8Array ? bytes : { ...image, data: bytes };
  });
  return { sent, transfer };
}

export class PreprocessPool {
  private readonly threads: PoolThread[] = [];
  private nextId = 1;
  private closed = false;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(
    private readonly init: PreprocessThreadInit,
    size: number,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`preprocess pool size must be an integer ≥ 1, got ${size}`);
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
  }

  static forConfig(config: PreprocessorConfig, options: { threads: number; maxPixels: number }): PreprocessPool {
    return new PreprocessPool({ config, maxPixels: options.maxPixels }, options.threads);
  }

  /**
   * Preprocesses `images` into consecutive slots of `plane` floats of `out` (which is transferred away and returned).
   */
  fill(images: readonly ImageInput[], out: Float32Array, plane: number): Promise<FilledBatch> {
    if (this.closed) return Promise.reject(new FerError('preprocess_closed', 'preprocessing pool is closed'));
    // The thread with the fewest batches in hand: sharp decodes concurrently, resizes queue up.
    const usable = this.threads.filter((t) => t.broken === undefined);
    if (usable.length === 0) return Promise.reject(this.threads[0]!.broken!);
    const thread = usable.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const { sent, transfer } = ownedCopies(images);
      const request: PreprocessRequest = { id, images: sent, out, plane };
      try {
        thread.worker.postMessage(request, [out.buffer as ArrayBuffer, ...transfer]);
      } catch (error) {
        thread.pending.delete(id);
        this.settled();
        reject(
          new FerError(
            'preprocess_failed',
            `cannot send images to the preprocessing thread: ${(error as Error).message}`,
          ),
        );
      }
    });
  }

  /**
   * Refuses new batches, lets the ones in hand finish (terminating a thread inside a sharp call is not safe), then
   * stops the threads.
   */
  async close(): Promise<void> {
    this.closed = true;
    while (this.threads.some((t) => t.pending.size > 0))
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private settled(): void {
    if (this.threads.some((t) => t.pending.size > 0)) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private spawn(): PoolThread {
    const thread: PoolThread = {
      worker: new Worker(THREAD_ENTRY, { workerData: this.init }),
      pending: new Map(),
      ready: false,
      broken: undefined,
    };
    this.attach(thread);
    return thread;
  }

  private attach(thread: PoolThread): void {
    const worker = thread.worker;
    worker.on('message', (reply: PreprocessReply) => {
      if (reply.type === 'ready') {
        thread.ready = true;
        return;
      }
      const pending = thread.pending.get(reply.id);
      if (pending === undefined) return;
      thread.pending.delete(reply.id);
      pending.resolve({ out: reply.out, errors: reply.errors.map((e) => (e === null ? undefined : revive(e))) });
      this.settled();
    });
    let crash: Error | undefined;
    worker.on('error', (error) => {
      crash = error;
    });
    worker.on('exit', (code) => {
      if (worker !== thread.worker || (this.closed && thread.pending.size === 0)) return;
      const why = crash?.message ?? `exit code ${code}`;
      const error = thread.ready
        ? new FerError('preprocess_failed', `preprocessing thread crashed (${why})`)
        : new FerError('preprocess_failed', `preprocessing thread failed to start (${why})`);
      for (const pending of thread.pending.values()) pending.reject(error);
      thread.pending.clear();
      this.settled();
      if (this.closed) return;
      if (!thread.ready) {
        thread.broken = error;
        return;
      }
      // Replace it so later batches have somewhere to go.
      thread.ready = false;
      thread.worker = new Worker(THREAD_ENTRY, { workerData: this.init });
      this.attach(thread);
    });
  }
}

function revive(e: { name: string; message: string; code?: string }): Error {
  if (e.code !== undefined) {
    // A code from the thread is one of ours; anything else (a library's) reads as a failed preprocess.
    const error = new FerError(isErrorCode(e.code) ? e.code : 'preprocess_failed', e.message);
    if (e.name !== 'Error') error.name = e.name;
    return error;
  }
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
