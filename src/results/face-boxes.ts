// Face boxes come out of the worker in working-resolution pixels (frames are scaled down before
// analysis, already upright: ffmpeg applies the display rotation). Results report them in the
// video's own displayed pixels, so a user can draw them on the original video.

import { workingFrameSize, type Size } from '../core/sampling-geometry.ts';
import type { Box, FrameResult } from '../core/types.ts';

export type { Size };

/** Scales every face box from the working frame size to the displayed video size (rotation applied). */
export function scaleFaceBoxes(frames: readonly FrameResult[], working: Size, video: Size): FrameResult[] {
  for (const [name, s] of [
    ['working', working],
    ['video', video],
  ] as const) {
    if (!(s.width > 0 && s.height > 0))
      throw new RangeError(`${name} size must be positive, got ${s.width}x${s.height}`);
  }
  const sx = video.width / working.width;
  const sy = video.height / working.height;
  if (sx === 1 && sy === 1) return [...frames];
  const r = (v: number) => Math.round(v * 10) / 10;
  const scale = (b: Box): Box => ({ x: r(b.x * sx), y: r(b.y * sy), width: r(b.width * sx), height: r(b.height * sy) });
  const point = ([x, y]: readonly [number, number]) => [r(x * sx), r(y * sy)] as const;
  return frames.map((frame) =>
    frame.faces.length === 0
      ? frame
      : {
          ...frame,
          faces: frame.faces.map((face) => ({
            ...face,
            box: scale(face.box),
            ...(face.landmarks ? { landmarks: face.landmarks.map(point) } : {}),
          })),
        },
  );
}

/**
 * Face boxes of a video's frames in the video's displayed pixels. `video` is the producer's probe
 * record: `width`/`height` displayed (rotation applied) and `frameWidth`/`frameHeight` the working
 * resolution the frames were analysed at (else derived from `maxSide`). Without a known video size
 * the boxes stay as they are.
 */
export function boxesInVideoPixels(
  frames: readonly FrameResult[],
  video: { width?: unknown; height?: unknown; frameWidth?: unknown; frameHeight?: unknown },
  maxSide: number | undefined,
): FrameResult[] {
  const positive = (v: unknown): v is number => typeof v === 'number' && v > 0;
  const { width, height, frameWidth, frameHeight } = video;
  if (!positive(width) || !positive(height)) return [...frames];
  if (positive(frameWidth) && positive(frameHeight))
    return scaleFaceBoxes(frames, { width: frameWidth, height: frameHeight }, { width, height });
  if (!positive(maxSide)) return [...frames];
  return scaleFaceBoxes(frames, workingFrameSize({ width, height }, maxSide), { width, height });
}
