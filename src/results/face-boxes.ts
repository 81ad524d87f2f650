// Face boxes come out of the worker in working-resolution pixels (frames are scaled down before
// analysis, already upright: ffmpeg applies the display rotation). Results report them in the
// video's own displayed pixels, so a user can draw them on the original video.

import type { Box, FrameResult } from '../core/types.ts';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Scales every face box from the working frame size to the displayed video size (rotation applied). */
export function scaleFaceBoxes(frames: readonly FrameResult[], working: Size, video: Size): FrameResult[] {
  for (const [name, s] of [['working', working], ['video', video]] as const) {
    if (!(s.width > 0 && s.height > 0)) throw new RangeError(`${name} size must be positive, got ${s.width}x${s.height}`);
  }
  const sx = video.width / working.width;
  const sy = video.height / working.height;
  if (sx === 1 && sy === 1) return [...frames];
  const r = (v: number) => Math.round(v * 10) / 10;
  const scale = (b: Box): Box => ({ x: r(b.x * sx), y: r(b.y * sy), width: r(b.width * sx), height: r(b.height * sy) });
  return frames.map((frame) => (frame.faces.length === 0 ? frame : { ...frame, faces: frame.faces.map((face) => ({ ...face, box: scale(face.box) })) }));
}
