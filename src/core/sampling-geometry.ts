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

/**
 * The working frame size: the displayed (rotated) size scaled so its long side is at most `maxSide`, aspect kept, never
 * upscaled.
 */
export function workingFrameSize(video: Size, maxSide: number): Size {
  const scale = Math.min(1, maxSide / Math.max(video.width, video.height));
  return { width: Math.max(1, Math.round(video.width * scale)), height: Math.max(1, Math.round(video.height * scale)) };
}

/** What ffprobe tells about a video (src/producer/probe.ts reads it; the video record keeps it). */
export interface VideoProbe {
  readonly durationSeconds: number | null;
  /** Stored (coded) size of the video stream, before rotation. */
  readonly codedWidth: number;
  readonly codedHeight: number;
  /** Size as displayed, i.e. after applying `rotation`. */
  readonly width: number;
  readonly height: number;
  /** Clockwise rotation to apply for display, degrees: 0, 90, 180 or 270. */
  readonly rotation: number;
  /** Average frame rate of the video stream (frames/s), null when unknown. */
  readonly frameRate: number | null;
  readonly videoCodec: string;
  readonly audioCodec: string | null;
  readonly container: string;
  readonly fileBytes: number;
  readonly startTime: number;
}

/** The probe as the video record stores it: with the working size the frames were scaled to. */
export interface StoredProbe extends VideoProbe {
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/** The record's probe JSON, checked: a record written by another version fails here, by name, not later. */
export function decodeStoredProbe(json: string): StoredProbe {
  const value = JSON.parse(json) as Record<string, unknown>;
  const number = (field: string): number => {
    if (typeof value[field] !== 'number')
      throw new TypeError(`stored probe: ${field} is not a number (${JSON.stringify(value[field])})`);
    return value[field];
  };
  const numberOrNull = (field: string): number | null => (value[field] === null ? null : number(field));
  const string = (field: string): string => {
    if (typeof value[field] !== 'string')
      throw new TypeError(`stored probe: ${field} is not a string (${JSON.stringify(value[field])})`);
    return value[field];
  };
  return {
    durationSeconds: numberOrNull('durationSeconds'),
    codedWidth: number('codedWidth'),
    codedHeight: number('codedHeight'),
    width: number('width'),
    height: number('height'),
    rotation: number('rotation'),
    frameRate: numberOrNull('frameRate'),
    videoCodec: string('videoCodec'),
    audioCodec: value.audioCodec === null ? null : string('audioCodec'),
    container: string('container'),
    fileBytes: number('fileBytes'),
    startTime: number('startTime'),
    frameWidth: number('frameWidth'),
    frameHeight: number('frameHeight'),
  };
}
