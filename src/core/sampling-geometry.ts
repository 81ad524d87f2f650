// Where a video's sampled frames lie and how big they are: the time rule (frame n at start + n/fps),
// how many frames a sampling yields, and the working size frames are scaled to. One home that the
// producer (which decodes by these rules), the pipeline (which records and resumes by them) and the
// results (which map boxes back to the video's pixels) all import.

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Which part of a video is sampled, and how densely. */
export interface SamplingSpan {
  /** Frames per second to sample. */
  readonly fps: number;
  /** Seconds from the start of the video to begin at (default 0). */
  readonly startSeconds?: number;
  /** Seconds from the start of the video to stop at (default: its end). */
  readonly endSeconds?: number;
  /** Stop after this many frames (0 or absent: no limit). */
  readonly maxFrames?: number;
}

/**
 * Presentation time of sampled frame `index`: the fps filter emits frames on an exact grid of
 * 1/fps from the (seek) start, so the n-th frame is at start + n / fps (rounded to the microsecond).
 */
export function sampledFrameTime(index: number, span: Pick<SamplingSpan, 'fps' | 'startSeconds'>): number {
  return Math.round(((span.startSeconds ?? 0) + index / span.fps) * 1e6) / 1e6;
}

/** Frames the sampling yields for a video of known duration (an upper bound for ffmpeg's actual count). */
export function expectedFrameCount(durationSeconds: number, span: SamplingSpan): number {
  const start = span.startSeconds ?? 0;
  const end = Math.min(durationSeconds, span.endSeconds ?? Number.POSITIVE_INFINITY);
  const count = Math.max(0, Math.ceil((end - start) * span.fps - 1e-9));
  return span.maxFrames ? Math.min(count, span.maxFrames) : count;
}

/** The working frame size: the displayed (rotated) size scaled so its long side is at most `maxSide`, aspect kept, never upscaled. */
export function workingFrameSize(video: Size, maxSide: number): Size {
  const scale = Math.min(1, maxSide / Math.max(video.width, video.height));
  return { width: Math.max(1, Math.round(video.width * scale)), height: Math.max(1, Math.round(video.height * scale)) };
}
