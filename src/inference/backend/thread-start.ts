// Starting one session thread: the worker thread is created with its session's settings and
// answers once its onnxruntime session exists — or says why it cannot (no usable provider, a
// model that does not load), which becomes a FerError for the host (thread-host.ts).

import { Worker } from 'node:worker_threads';
import { FerError } from '../../core/errors.ts';
import type { ExecutionProviderName, TensorInfo } from '../types.ts';
import type { SessionThreadInit, ThreadToHost } from './protocol.ts';

// Compiled (bin/compile.js), the thread runs session-thread.js; from the sources, the .mjs shim registers tsx first.
const THREAD_ENTRY = new URL(
  import.meta.url.endsWith('.js') ? './session-thread.js' : './session-thread.mjs',
  import.meta.url,
);

export interface Ready {
  readonly worker: Worker;
  readonly provider: ExecutionProviderName;
  readonly skipped: ReadonlyArray<{ provider: ExecutionProviderName; reason: string }>;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

/** Starts one session thread and waits until its session exists (or says why it cannot). */
export function startThread(init: SessionThreadInit): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, { workerData: init });
    const fail = (error: Error) => {
      worker.off('message', onMessage);
      void worker.terminate();
      reject(error);
    };
    const onMessage = (message: ThreadToHost) => {
      if (message.type === 'ready') {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve({
          worker,
          provider: message.provider,
          skipped: message.skipped,
          inputs: message.inputs,
          outputs: message.outputs,
        });
      } else if (message.type === 'init-error') {
        const what = message.kind === 'provider' ? 'no usable execution provider for' : 'cannot load ONNX model';
        fail(
          new FerError(
            message.kind === 'provider' ? 'provider_unavailable' : 'model_invalid',
            `${what} ${init.modelPath}: ${message.message}`,
          ),
        );
      }
    };
    const onError = (error: Error) =>
      fail(
        new FerError(
          'inference_thread_failed',
          `inference thread for ${init.modelPath} failed to start: ${error.message}`,
          { cause: error },
        ),
      );
    const onExit = (code: number) =>
      fail(
        new FerError(
          'inference_thread_failed',
          `inference thread for ${init.modelPath} exited (code ${code}) before its session was ready`,
        ),
      );
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}
