// Which video and frame an RgbImage handed to the analyzer came from. The FrameAnalyzer
// interface takes bare images; batch observers (metrics, tests showing that batches mix videos)
// look the origin up here. Weak keys: nothing is kept once the frame is gone.

import type { RgbImage } from '../core/types.ts';

export interface FrameOrigin {
  readonly videoId: string;
  readonly index: number;
}

const origins = new WeakMap<object, FrameOrigin>();

export function tagFrame(image: RgbImage, origin: FrameOrigin): void {
  origins.set(image, origin);
  origins.set(image.data, origin);
}

/** The origin of an image (or of its pixel buffer) the worker analysed; undefined for others. */
export function frameOrigin(image: RgbImage | Uint8Array): FrameOrigin | undefined {
  return origins.get(image);
}
