// InferenceHost on worker threads: N threads, each owning one onnxruntime session. Runs go to an
// idle thread (FIFO when all are busy); tensors move between threads in transfer lists.

import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.ts';
import { createLogger } from '../../core/logger.ts';
import { logEnvironment } from '../../config/process-env.ts';
import { FerError } from '../../core/errors.ts';
import type { InferenceConfig } from '../../config/inference.ts';
import type { ExecutionProviderName, InferenceHost, Tensor, TensorInfo, TensorMap } from '../types.ts';
import { resolveIntraOpThreads, type IntraOpThreadsSetting } from './intra-op-threads.ts';
import {
  transferables,
  type GraphOptimizationLevel,
  type HostToThread,
  type SessionThreadInit,
  type ThreadToHost,
} from './protocol.ts';
import { startThread, type Ready } from './thread-start.ts';

export interface ThreadHostOptions {
  readonly modelPath: string;
  /** Sessions (one thread each). */
  readonly threads: number;
  readonly executionProviders: readonly ExecutionProviderName[];
  /** onnxruntime intra-op threads per session (intra-op-threads.ts: `auto`, 0 = onnxruntime's choice, or a count). */
  readonly intraOpThreads: IntraOpThreadsSetting;
  readonly graphOptimizationLevel: GraphOptimizationLevel;
  /** See SessionThreadInit.threadSpinning (default false). */
  readonly threadSpinning?: boolean;
  /** See SessionThreadInit.cpuMemoryArena (default true). */
  readonly cpuMemoryArena?: boolean;
  readonly logger?: Logger;
}

export function hostOptionsFromConfig(config: InferenceConfig, modelPath: string, logger?: Logger): ThreadHostOptions {
  return {
    modelPath,
    threads: config.sessionThreads,
    executionProviders: config.executionProviders,
    intraOpThreads: config.intraOpThreads,
    graphOptimizationLevel: config.graphOptimizationLevel,
    threadSpinning: config.threadSpinning,
    cpuMemoryArena: config.cpuMemoryArena,
    ...(logger ? { logger } : {}),
  };
}

// Every open host of this process, for abandonQueuedInference.
const openHosts = new Set<ThreadSessionHost>();

/** The code of the error queued and later runs fail with once abandoned (callers tell it from real failures). */
export const INFERENCE_ABANDONED = 'inference_abandoned';

/**
 * For a process being interrupted or stopped at once: every open host fails its queued runs with
 * an INFERENCE_ABANDONED error saying `why`, and refuses new ones. Runs already inside onnxruntime finish: a session
 * thread cannot
 * be stopped there, and ending the process meanwhile aborts it ("terminate called after throwing an
 * instance of 'Napi::Error'"). Resolves once they have, so that closing or exiting afterwards waits
 * for one batch, not the queue.
 */
export function abandonQueuedInference(why: string): Promise<void> {
  const reason = new FerError(INFERENCE_ABANDONED, why);
  return Promise.all([...openHosts].map((host) => host.abandon(reason))).then(() => undefined);
}

// A provider fallback is logged once per process, however many hosts and threads hit it.
const loggedFallbacks = new Set<string>();
let defaultLogger: Logger | undefined;

interface PendingRun {
  readonly inputs: TensorMap;
  readonly resolve: (outputs: Record<string, Tensor>) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  current: (PendingRun & { id: number }) | undefined;
  busySince: number | undefined;
  busyTotal: number;
  alive: boolean;
  /** Told to exit by killThread: it gets no new runs and its late results are dropped. */
  exiting: boolean;
}

export class ThreadSessionHost implements InferenceHost {
  private readonly queue: PendingRun[] = [];
  private nextId = 1;
  private closing = false;
  /** Why new runs are refused (abandonQueuedInference). */
  private abandoned: Error | undefined;
  private closed: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];

  private constructor(
    private readonly options: ThreadHostOptions,
    private readonly init: SessionThreadInit,
    private readonly slots: Slot[],
    readonly executionProvider: ExecutionProviderName,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
  ) {
    for (const slot of slots) this.attach(slot);
    openHosts.add(this);
  }

  /** Starts the threads and their sessions; rejects with a specific error if a session cannot be created. */
  static async create(options: ThreadHostOptions): Promise<ThreadSessionHost> {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new RangeError(`threads must be an integer ≥ 1, got ${options.threads}`);
    if (options.executionProviders.length === 0)
      throw new RangeError('executionProviders is empty: list at least one of cuda, cpu');
    const file = await stat(options.modelPath).catch(() => undefined);
    if (file === undefined) throw new FerError('model_missing', `ONNX model file not found: ${options.modelPath}`);
    if (!file.isFile()) throw new FerError('model_invalid', `ONNX model path is not a file: ${options.modelPath}`);

    const logger =
      options.logger ??
      (defaultLogger ??= createLogger({
        name: 'inference',
        level: logEnvironment().level,
        pretty: logEnvironment().pretty,
      }));
    const intraOp = resolveIntraOpThreads(options.intraOpThreads, options.threads);
    logger.debug(
      { model: options.modelPath, intraOpThreads: intraOp.threads, why: intraOp.why },
      `onnxruntime intra-op threads: ${intraOp.threads || 'onnxruntime decides'} per session`,
    );
    const baseInit: SessionThreadInit = {
      modelPath: options.modelPath,
      executionProviders: options.executionProviders,
      intraOpThreads: intraOp.threads,
      graphOptimizationLevel: options.graphOptimizationLevel,
      threadSpinning: options.threadSpinning ?? false,
      cpuMemoryArena: options.cpuMemoryArena ?? true,
    };
    // The first thread finds the provider that works; the others start straight on it.
    const first = await startThread(baseInit);
    for (const skipped of first.skipped) {
      const key = `${skipped.provider}->${first.provider}`;
      if (loggedFallbacks.has(key)) continue;
      loggedFallbacks.add(key);
      // Info, not a warning: on a machine without a GPU, CPU is the expected outcome of the default provider list.
      logger.info(
        { unavailable: skipped.provider, using: first.provider, reason: skipped.reason },
        `execution provider ${skipped.provider} unavailable, falling back to ${first.provider}`,
      );
    }
    const init: SessionThreadInit = { ...baseInit, executionProviders: [first.provider] };
    const rest = await Promise.allSettled(Array.from({ length: options.threads - 1 }, () => startThread(init)));
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const r of [{ status: 'fulfilled', value: first } as const, ...rest])
        if (r.status === 'fulfilled') void r.value.worker.terminate();
      throw failed.reason;
    }
    const workers = [first.worker, ...rest.map((r) => (r as PromiseFulfilledResult<Ready>).value.worker)];
    const slots = workers.map((worker, index): Slot => ({
      index,
      worker,
      current: undefined,
      busySince: undefined,
      busyTotal: 0,
      alive: true,
      exiting: false,
    }));
    return new ThreadSessionHost(options, init, slots, first.provider, first.inputs, first.outputs);
  }

  get threads(): number {
    return this.slots.length;
  }

  get inputNames(): readonly string[] {
    return this.inputs.map((i) => i.name);
  }

  get outputNames(): readonly string[] {
    return this.outputs.map((o) => o.name);
  }

  busyMs(): readonly number[] {
    const now = performance.now();
    return this.slots.map((s) => s.busyTotal + (s.busySince === undefined ? 0 : now - s.busySince));
  }

  run(inputs: TensorMap): Promise<Record<string, Tensor>> {
    if (this.abandoned) return Promise.reject(this.abandoned);
    if (this.closing)
      return Promise.reject(new FerError('host_closed', `inference host for ${this.options.modelPath} is closed`));
    if (!this.slots.some((s) => s.alive)) return Promise.reject(this.noThreadsError());
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, resolve, reject });
      this.dispatch();
    });
  }

  close(): Promise<void> {
    this.closing = true;
    this.closed ??= (async () => {
      while (this.queue.length > 0 || this.slots.some((s) => s.current !== undefined)) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      }
      await Promise.all(this.slots.filter((s) => s.alive).map((slot) => this.stopSlot(slot)));
      openHosts.delete(this);
    })();
    return this.closed;
  }

  /** See abandonQueuedInference: resolves once no run is in progress. */
  abandon(reason: Error): Promise<void> {
    this.abandoned ??= reason;
    for (const pending of this.queue.splice(0)) pending.reject(reason);
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.notifyIdle();
    return idle;
  }

  private async stopSlot(slot: Slot): Promise<void> {
    slot.alive = false;
    const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
    // Release the session cleanly; terminate if the thread does not answer in time.
    const released = new Promise<void>((resolve) => {
      slot.worker.on('message', (m: ThreadToHost) => m.type === 'closed' && resolve());
    });
    slot.worker.postMessage({ type: 'close' } satisfies HostToThread);
    await Promise.race([released, new Promise((r) => setTimeout(r, 2000).unref())]);
    await slot.worker.terminate();
    await exited;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.alive || slot.exiting || slot.current !== undefined) continue;
      const pending = this.queue.shift()!;
      const id = this.nextId++;
      slot.current = { ...pending, id };
      slot.busySince = performance.now();
      const message: HostToThread = { type: 'run', id, inputs: pending.inputs };
      try {
        slot.worker.postMessage(message, transferables(Object.values(pending.inputs)));
      } catch (error) {
        this.finish(slot);
        pending.reject(
          new FerError(
            'inference_input_invalid',
            `cannot send inputs to the inference thread: ${(error as Error).message}`,
          ),
        );
      }
    }
    this.notifyIdle();
  }

  private finish(slot: Slot): void {
    if (slot.busySince !== undefined) slot.busyTotal += performance.now() - slot.busySince;
    slot.busySince = undefined;
    slot.current = undefined;
  }

  private notifyIdle(): void {
    if (this.queue.length > 0 || this.slots.some((s) => s.current !== undefined)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private attach(slot: Slot): void {
    const worker = slot.worker;
    worker.on('message', (message: ThreadToHost) => {
      if ((message.type !== 'result' && message.type !== 'run-error') || slot.exiting) return;
      const current = slot.current;
      if (current === undefined || current.id !== message.id) return;
      this.finish(slot);
      if (message.type === 'result') current.resolve(message.outputs);
      else
        current.reject(
          new FerError('inference_failed', `inference failed on ${this.options.modelPath}: ${message.message}`),
        );
      this.dispatch();
    });
    let crash: Error | undefined;
    worker.on('error', (error) => {
      crash = error;
    });
    worker.on('exit', (code) => {
      if (!slot.alive || worker !== slot.worker) return; // closed on purpose, or already replaced
      this.threadLost(slot, crash ? crash.message : `exited with code ${code}`);
    });
  }

  /** A thread that is gone fails its in-flight run (never the queued ones) and is replaced. */
  private threadLost(slot: Slot, reason: string): void {
    slot.alive = false;
    const current = slot.current;
    this.finish(slot);
    current?.reject(
      new FerError(
        'inference_thread_crashed',
        `inference thread ${slot.index} for ${this.options.modelPath} crashed during a run (${reason})`,
      ),
    );
    this.options.logger?.error({ thread: slot.index, reason }, 'inference thread crashed; starting a replacement');
    void this.replace(slot);
    this.dispatch();
  }

  /**
   * A crashed thread is replaced so the host keeps its capacity; if that fails, queued runs fail instead of hanging.
   */
  private async replace(slot: Slot): Promise<void> {
    if (this.closing) {
      this.failQueueIfNoThreads();
      return;
    }
    try {
      const ready = await startThread(this.init);
      if (this.closing) {
        void ready.worker.terminate();
        this.failQueueIfNoThreads();
        return;
      }
      slot.worker = ready.worker;
      slot.alive = true;
      slot.exiting = false;
      this.attach(slot);
      this.dispatch();
    } catch (error) {
      (this.options.logger ?? defaultLogger)?.error(
        { thread: slot.index, err: error },
        'could not replace a crashed inference thread',
      );
      this.failQueueIfNoThreads();
    }
  }

  private failQueueIfNoThreads(): void {
    if (this.slots.some((s) => s.alive)) return;
    const error = this.noThreadsError();
    for (const pending of this.queue.splice(0)) pending.reject(error);
    this.notifyIdle();
  }

  private noThreadsError(): FerError {
    return new FerError('host_unavailable', `inference host for ${this.options.modelPath} has no running threads left`);
  }

  /**
   * Test and operations hook: ends a thread as a crash would (its in-flight run rejected, the
   * thread replaced). The thread is told to exit rather than terminated: terminating a worker while
   * onnxruntime-node is inside a native call aborts the whole process ("terminate called after
   * throwing an instance of 'Napi::Error'"), so it ends itself once its current call returns, and
   * whatever that call produces is dropped as a crashed thread's would be.
   */
  async killThread(index: number): Promise<void> {
    const slot = this.slots[index];
    if (slot === undefined) throw new RangeError(`no thread ${index} (host has ${this.slots.length})`);
    if (!slot.alive || slot.exiting) return;
    const worker = slot.worker;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    slot.exiting = true;
    worker.postMessage({ type: 'exit', code: 1 } satisfies HostToThread);
    await exited;
  }
}

export function createInferenceHost(options: ThreadHostOptions): Promise<ThreadSessionHost> {
  return ThreadSessionHost.create(options);
}
