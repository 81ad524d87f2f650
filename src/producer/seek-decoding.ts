// Sparse sampling by seeking: when samples lie seconds apart, decoding every frame of the video to
// keep one in dozens costs more than seeking to each sample, which decodes only from the keyframe
// before it (measured in bench:decode-modes --only seek: 0.26–0.58× the full decode's CPU at one
// sample per 5–10 s of 1080p, 0.86–1.47× at one per 2 s). The frames are the full decode's, byte for
// byte: each ffmpeg seeks exactly to the source frame the fps filter would pick (the frame on screen
// at the sample's time, found in the packet timestamps), and converts it with the same scale filter
// (test/producer/seek-sampling.test.ts compares every sample against the full decode).

import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SamplingSpan } from '../core/sampling-geometry.ts';
import { startFfmpeg, type Decoding, type FfmpegRun } from './ffmpeg-run.ts';
import { listFrameTimes, type FrameTimes } from './frame-times.ts';
import { seeksExactly, type VideoProbe } from './probe.ts';
import { safeInput, safeInputOptions } from './media-safety.ts';

/** Margin for comparing times computed in floating point (seconds; frames are ≥ 1 ms apart). */
const TIME_EPSILON = 1e-6;

/**
 * Whether `sampling` of this video is decoded by seeking to each sample: its samples are at least
 * `seekIntervalSeconds` apart, its length is known, and its container seeks exactly (probe.ts).
 * Where the frames cannot be listed when it starts, the full decode runs after all.
 */
export function samplesBySeeking(
  probe: VideoProbe,
  sampling: Pick<SamplingSpan, 'fps' | 'endSeconds'> & { readonly seekIntervalSeconds?: number },
): boolean {
  const interval = sampling.seekIntervalSeconds ?? 0;
  const end = sampling.endSeconds ?? probe.durationSeconds ?? undefined;
  return interval > 0 && 1 / sampling.fps >= interval && end !== undefined && seeksExactly(probe);
}

/**
 * The source frame each sample shows, from sample `firstIndex` on: its presentation time in
 * `frames` (ascending, seconds from the video's start). Sample n shows the last frame at or before
 * start + n / fps, as the full decode's fps filter (round=up) picks; with a start time, sample 0 is
 * the first frame from the start on, as the full decode's seek to the start gives. Samples stop at
 * `limit`, at `end` and where the video stream has ended (its last frame shown for as long as the
 * frame before it).
 */
export function sampleSourceTimes(
  frames: readonly number[],
  span: Pick<SamplingSpan, 'fps' | 'startSeconds'>,
  range: { readonly firstIndex: number; readonly limit: number; readonly end: number },
): number[] {
  if (frames.length === 0) return [];
  const start = span.startSeconds ?? 0;
  const last = frames[frames.length - 1]!;
  const streamEnd = frames.length > 1 ? last + (last - frames[frames.length - 2]!) : Number.POSITIVE_INFINITY;
  const end = Math.min(range.end, streamEnd);
  const times: number[] = [];
  let shown = 0;
  for (let index = range.firstIndex; times.length < range.limit; index++) {
    const at = start + index / span.fps;
    if (at >= end - TIME_EPSILON) break;
    if (index === 0 && start > 0) {
      const first = frames.findIndex((time) => time >= start - TIME_EPSILON);
      if (first < 0) break;
      times.push(frames[first]!);
      continue;
    }
    while (shown + 1 < frames.length && frames[shown + 1]! <= at + TIME_EPSILON) shown++;
    times.push(frames[shown]!);
  }
  return times;
}

/**
 * The source frame time of each sample to decode by seeking, or null where the frames cannot be
 * listed (the full decode then runs, and reports what is wrong with the file).
 */
export async function seekSourceTimes(
  file: string,
  probe: VideoProbe,
  range: { firstIndex: number; frameLimit: number; end: number; containers: readonly string[] },
  span: SamplingSpan,
  onDecodeError?: (line: string) => void,
): Promise<number[] | null> {
  // Only the packets around the samples wanted (a segment of an hour-long video lists its own
  // minute): from a sampling interval before the first, which puts the frame on screen at it in the list.
  const first = (span.startSeconds ?? 0) + range.firstIndex / span.fps;
  const last = Number.isFinite(range.frameLimit) ? first + (range.frameLimit - 1) / span.fps : range.end;
  const list = (from: number) =>
    listFrameTimes(file, {
      startTime: probe.startTime,
      allowedContainers: range.containers,
      between: { from, to: Math.min(range.end, last) + 1 },
    });
  let listed: FrameTimes;
  try {
    listed = await list(Math.max(0, first - 1 / span.fps));
    // Listed from after the first sample (ffprobe's seek landed late): list from the start instead.
    if (!(listed.frames[0]! <= first + 1e-6) && first > 0) listed = await list(0);
  } catch {
    return null;
  }
  const { frames, damage } = listed;
  if (frames.length === 0) return null;
  // A file cut short lists only the frames it holds: the sampling ends there, its damage told.
  for (const line of damage) onDecodeError?.(line);
  return sampleSourceTimes(frames, span, { firstIndex: range.firstIndex, limit: range.frameLimit, end: range.end });
}

export interface SeekDecodingOptions {
  readonly width: number;
  readonly height: number;
  readonly decodeThreads?: number;
  readonly hwaccel?: string | null;
  readonly allowedContainers: readonly string[];
  readonly onDecodeError?: (line: string) => void;
}

/**
 * Samples per ffmpeg: starting ffmpeg costs ≈ 0.13 CPU s here (Debian's build loads every codec
 * library), more than seeking and decoding one 1080p frame; eight seeks in one process took 0.62 CPU s
 * against 1.36 for eight processes.
 */
const SAMPLES_PER_RUN = 8;

/**
 * Decodes one frame per entry of `sourceTimes` (sampleSourceTimes): ffmpeg runs that each open the
 * file once per sample, seek each input to its sample and put the first frame of each together, one
 * run after another into the same sink. A run's frames reach the sink only when it gave all of them,
 * so a missing frame never shifts the others to the wrong index: such a run is done again sample by
 * sample, and the sampling ends at the first sample without a frame (a file cut short or damaged).
 */
export function startSeekDecoding(
  file: string,
  sourceTimes: readonly number[],
  options: SeekDecodingOptions,
): Decoding {
  const frameBytes = options.width * options.height * 3;
  let current: FfmpegRun | undefined;
  let stopped = false;
  let done: Promise<void> = Promise.resolve();
  /** The frames at `times`, back to back; fewer bytes where ffmpeg gave fewer frames. */
  const decode = async (times: readonly number[]): Promise<Buffer> => {
    const run = startFfmpeg(seekArgs(file, times, options), {
      file,
      allowedContainers: options.allowedContainers,
      onDecodeError: options.onDecodeError,
    });
    current = run;
    const pieces: Buffer[] = [];
    run.stdout.on('data', (piece: Buffer) => pieces.push(piece));
    await finished(run.stdout).catch(() => undefined);
    await run.finish();
    return Buffer.concat(pieces);
  };
  const write = async (sink: Writable, frames: Buffer) => {
    if (!sink.write(frames)) await new Promise<void>((resolve) => sink.once('drain', resolve));
  };
  /** Decodes `times` into the sink; false where a sample had no frame (the sampling ends there). */
  const decodeInto = async (sink: Writable, times: readonly number[]): Promise<boolean> => {
    const frames = await decode(times);
    if (stopped) return false;
    if (frames.length === times.length * frameBytes) {
      await write(sink, frames);
      return true;
    }
    if (times.length > 1) {
      for (const time of times) if (stopped || !(await decodeInto(sink, [time]))) return false;
      return true;
    }
    // No frame where the index promised one: the full decode ends there too, with the frames before.
    options.onDecodeError?.(`no frame could be decoded at ${times[0]!.toFixed(3)} s: the video ends early`);
    return false;
  };
  return {
    width: options.width,
    height: options.height,
    leadFrames: 0,
    pipe(sink) {
      done = (async () => {
        try {
          for (let i = 0; i < sourceTimes.length && !stopped; i += SAMPLES_PER_RUN) {
            if (!(await decodeInto(sink, sourceTimes.slice(i, i + SAMPLES_PER_RUN)))) break;
          }
        } finally {
          sink.end();
        }
      })();
      // Awaited by finish(); kept from counting as unhandled until then.
      done.catch(() => undefined);
    },
    finish: () => done,
    kill() {
      stopped = true;
      current?.kill();
    },
  };
}

/**
 * ffmpeg's arguments for the frames at `times`: the file opened once per time, each input seeked
 * there; the first frame of each, scaled as the full decode scales, joined in order.
 */
function seekArgs(file: string, times: readonly number[], options: SeekDecodingOptions): string[] {
  const args = ['-nostdin', '-nostats', '-loglevel', 'error'];
  if (options.decodeThreads) args.push('-filter_threads', String(options.decodeThreads));
  const chains: string[] = [];
  for (const [i, time] of times.entries()) {
    // Input options hold for the one input they precede.
    args.push(...safeInputOptions(options.allowedContainers));
    if (options.decodeThreads) args.push('-threads', String(options.decodeThreads));
    if (options.hwaccel) args.push('-hwaccel', options.hwaccel);
    // Accurate seeking decodes from the keyframe before `time` and drops every frame before it, so
    // the first frame out is the one at `time`: the seek is put at or just before it (microseconds,
    // rounded down), never after.
    if (time > 0) args.push('-ss', (Math.floor(time * 1e6) / 1e6).toFixed(6));
    args.push('-i', safeInput(file));
    chains.push(`[${i}:v:0]trim=end_frame=1,scale=${options.width}:${options.height}:flags=area[f${i}]`);
  }
  const joined = `${times.map((_, i) => `[f${i}]`).join('')}concat=n=${times.length}:v=1:a=0[out]`;
  args.push('-filter_complex', [...chains, joined].join(';'), '-map', '[out]');
  // Every frame passed as it comes (the joined frames' times may repeat or jump).
  args.push('-vsync', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1');
  return args;
}
