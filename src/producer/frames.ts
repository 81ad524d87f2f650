// Decodes a video straight to raw RGB frames at the sampling rate and working resolution, as a
// stream: ffmpeg writes rgb24 to a pipe, frames are cut from it one by one, and the pipe is only
// read as fast as the consumer pulls frames (async iteration), so memory stays bounded whatever
// the video's length and no frame ever touches the disk.

import ffmpeg from 'fluent-ffmpeg';
import { FerError } from '../core/types.ts';
import { mediaBinaries } from './binaries.ts';
import type { VideoProbe } from './probe.ts';

export interface SamplingOptions {
  /** Frames per second to sample (ffmpeg fps filter). */
  readonly fps: number;
  /** Long side of the working resolution (aspect kept, never upscaled). */
  readonly maxSide: number;
  /** Seconds from the start of the video to begin at. */
  readonly startSeconds?: number;
  /** Seconds from the start of the video to stop at. */
  readonly endSeconds?: number;
  /** Stop after this many frames (0 or absent: no limit). */
  readonly maxFrames?: number;
  /**
   * Yield every frame in the same buffer (valid only until the next frame is pulled): no
   * allocation per frame, for consumers that copy the pixels at once (the producer does).
   */
  readonly reuseBuffer?: boolean;
  /** ffmpeg decoder threads (0 or absent: ffmpeg decides). */
  readonly decodeThreads?: number;
}

export interface VideoFrame {
  /** 0-based index among the sampled frames. */
  readonly index: number;
  /** Presentation time in seconds from the start of the video. */
  readonly timestamp: number;
  readonly width: number;
  readonly height: number;
  /** rgb24, row-major, width × height × 3 bytes. */
  readonly data: Buffer;
}

/** Frame size after scaling the displayed (rotated) size so its long side is at most `maxSide`. */
export function workingSize(probe: Pick<VideoProbe, 'width' | 'height'>, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(probe.width, probe.height));
  return { width: Math.max(1, Math.round(probe.width * scale)), height: Math.max(1, Math.round(probe.height * scale)) };
}

/**
 * Timestamp of sampled frame `index`: the fps filter emits frames on an exact grid of 1/fps
 * from the (seek) start, so the n-th frame is at start + n / fps (rounded to the microsecond).
 */
export function frameTimestamp(index: number, options: Pick<SamplingOptions, 'fps' | 'startSeconds'>): number {
  return Math.round(((options.startSeconds ?? 0) + index / options.fps) * 1e6) / 1e6;
}

/** Frames the sampling yields for a video of known duration (an upper bound for ffmpeg's actual count). */
export function expectedFrameCount(durationSeconds: number, options: SamplingOptions): number {
  const start = options.startSeconds ?? 0;
  const end = Math.min(durationSeconds, options.endSeconds ?? Number.POSITIVE_INFINITY);
  const count = Math.max(0, Math.ceil((end - start) * options.fps - 1e-9));
  return options.maxFrames ? Math.min(count, options.maxFrames) : count;
}

/**
 * Streams the sampled frames of `file`. Breaking out of the loop (or an error) kills ffmpeg.
 * ffmpeg applies the display rotation itself (autorotate), so frames come out upright.
 */
export async function* extractFrames(file: string, probe: VideoProbe, options: SamplingOptions): AsyncGenerator<VideoFrame> {
  if (!(options.fps > 0)) throw new FerError('invalid_option', `fps must be > 0, got ${options.fps}`);
  const start = options.startSeconds ?? 0;
  if (start < 0) throw new FerError('invalid_option', `start time must be ≥ 0 s, got ${start}`);
  if (options.endSeconds !== undefined && options.endSeconds <= start) {
    throw new FerError('invalid_option', `end time (${options.endSeconds} s) must be after the start time (${start} s)`);
  }
  const { width, height } = workingSize(probe, options.maxSide);
  const frameBytes = width * height * 3;

  const command = ffmpeg(file).setFfmpegPath(mediaBinaries().ffmpeg);
  if (options.decodeThreads) command.inputOptions(['-threads', String(options.decodeThreads)]);
  if (start > 0) command.inputOptions(['-ss', String(start)]);
  const outputOptions = ['-an', '-sn', '-dn', '-vf', `fps=${options.fps},scale=${width}:${height}:flags=area`, '-pix_fmt', 'rgb24'];
  if (options.endSeconds !== undefined) outputOptions.push('-t', String(options.endSeconds - start));
  if (options.maxFrames) outputOptions.push('-frames:v', String(options.maxFrames));
  command.outputOptions(outputOptions).format('rawvideo');

  let failure: Error | undefined;
  // fluent-ffmpeg reports "Output stream closed" (and kills ffmpeg) when ffmpeg has not exited
  // within 20 ms of its stdout ending — a race under load, not a decoding error: once stdout has
  // ended every frame was delivered, so ffmpeg's own exit status decides (see the end of the loop).
  let outputClosedRace = false;
  // fluent-ffmpeg forgets its process once it ends; keep our own reference for the exit status.
  let proc: FfmpegProcess | undefined;
  command.on('start', () => {
    proc = (command as unknown as { ffmpegProc?: FfmpegProcess }).ffmpegProc;
  });
  command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
    if (error.message === 'Output stream closed') {
      outputClosedRace = true;
      return;
    }
    if (!/SIGKILL|killed with signal/.test(error.message)) {
      const lastLine = String(stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? error.message;
      failure = new FerError('decode_failed', `ffmpeg could not decode the video: ${lastLine}`);
    }
  });
  const stream = command.pipe();
  let finished = false;
  try {
    let index = 0;
    let current = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    for await (const piece of stream as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < piece.length) {
        const take = Math.min(frameBytes - filled, piece.length - offset);
        piece.copy(current, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          yield { index, timestamp: frameTimestamp(index, options), width, height, data: current };
          index += 1;
          if (!options.reuseBuffer) current = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    // The 'error' event follows the end of stdout when ffmpeg exits non-zero: let it arrive.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const exit = await waitForExit(proc);
    if (!failure && outputClosedRace && exit !== undefined && exit.code !== 0 && exit.signal !== 'SIGTERM') {
      failure = new FerError('decode_failed', `ffmpeg could not decode the video: it exited with ${exit.signal ?? `code ${exit.code}`}`);
    }
    if (failure) throw failure;
    finished = true;
  } finally {
    if (!finished) command.kill('SIGKILL');
  }
}

interface FfmpegProcess {
  exitCode: number | null;
  signalCode: string | null;
  once(event: 'close', listener: () => void): void;
}

/** Waits for ffmpeg to exit and returns its status (undefined if it never started). */
function waitForExit(proc: FfmpegProcess | undefined): Promise<{ code: number | null; signal: string | null } | undefined> {
  return new Promise((resolve) => {
    const status = () => (proc ? { code: proc.exitCode, signal: proc.signalCode } : undefined);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      // fluent-ffmpeg reports errors after the process closes; give it the tick to do so.
      setTimeout(() => resolve(status()), 0);
      return;
    }
    proc.once('close', () => setTimeout(() => resolve(status()), 0));
  });
}
