// Preprocesses whole batches off the main thread: sharp decodes on libuv threads, but the
// Pillow-exact resize and the normalisation are synchronous JavaScript that would otherwise hold
// the caller's event loop for tens of milliseconds per image.

import { parentPort, workerData } from 'node:worker_threads';
import { preprocessInto } from './preprocess.ts';
import type { ImageInput, PreprocessorConfig } from './types.ts';

export interface PreprocessThreadInit {
  readonly config: PreprocessorConfig;
  readonly maxPixels: number;
}

export type PreprocessRequest = {
  readonly id: number;
  readonly images: readonly ImageInput[];
  readonly out: Float32Array;
  readonly plane: number;
};
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}
export type PreprocessReply =
  | { readonly type: 'ready' }
  | {
      readonly type: 'filled';
      readonly id: number;
      readonly out: Float32Array;
      readonly errors: ReadonlyArray<SerializedError | null>;
    };

if (parentPort === null)
  throw new Error('preprocess-thread.ts must run in a worker thread (start preprocess-thread.mjs)');
const port = parentPort;
const init = workerData as PreprocessThreadInit;

port.on('message', async ({ id, images, out, plane }: PreprocessRequest) => {
  const settled = await Promise.allSettled(
    images.map((image, i) => preprocessInto(image, init.config, out, i * plane, { maxPixels: init.maxPixels })),
  );
  const errors = settled.map((s) => {
    if (s.status === 'fulfilled') return null;
    const error = s.reason as Error & { code?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
    };
  });
  const reply: PreprocessReply = { type: 'filled', id, out, errors };
  port.postMessage(reply, [out.buffer as ArrayBuffer]);
});

port.postMessage({ type: 'ready' } satisfies PreprocessReply);
