// Runs an analyzer over a stream of image files with a bounded number in flight, yielding each
// outcome in input order. Submitting every image at once (as `classify` once did) held every
// decoded image in memory and overflowed the batchers' queues (`queue_full` for all but the first
// 1,024 of 3,000); a window of in-flight images keeps the batches full and the memory flat.

import { readFile } from 'node:fs/promises';
import type { FaceResult, FrameAnalysis, RgbImage } from '../core/types.ts';
import { decodeToRgb } from '../inference/preprocess/decode.ts';
import type { ImageEntry } from './image-set.ts';

export type ImageOutcome<E extends ImageEntry = ImageEntry> =
  | { readonly entry: E; readonly width: number; readonly height: number; readonly faces: readonly FaceResult[] }
  | { readonly entry: E; readonly error: string; readonly code?: string };

export interface RunImagesOptions {
  readonly analyze: (image: RgbImage) => Promise<FrameAnalysis>;
  /** Images read, decoded or analysed at once (default 64: several full batches per model). */
  readonly inFlight?: number;
  readonly maxPixels?: number;
}

/** Reads, decodes and analyses one image; its failure is its outcome, never an exception. */
async function runOne<E extends ImageEntry>(entry: E, options: RunImagesOptions): Promise<ImageOutcome<E>> {
  try {
    const bytes = await readFile(entry.path).catch((error: NodeJS.ErrnoException) => {
      throw Object.assign(
        new Error(error.code === 'ENOENT' ? 'file not found' : `cannot read the file: ${error.message}`),
        { code: 'file_unreadable' },
      );
    });
    const rgb = await decodeToRgb(
      new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels },
    );
    const { faces } = await options.analyze(rgb);
    return { entry, width: rgb.width, height: rgb.height, faces };
  } catch (error) {
    const err = error as Error & { code?: unknown };
    return { entry, error: err.message, ...(typeof err.code === 'string' ? { code: err.code } : {}) };
  }
}

/** Each entry's outcome, in the order of `entries`, with at most `inFlight` images under way. */
export async function* runImages<E extends ImageEntry>(
  entries: AsyncIterable<E> | Iterable<E>,
  options: RunImagesOptions,
): AsyncGenerator<ImageOutcome<E>> {
  const limit = options.inFlight ?? 64;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`inFlight must be a positive integer, got ${limit}`);
  const window: Array<Promise<ImageOutcome<E>>> = [];
  for await (const entry of entries) {
    window.push(runOne(entry, options));
    if (window.length >= limit) yield await window.shift()!;
  }
  while (window.length > 0) yield await window.shift()!;
}
