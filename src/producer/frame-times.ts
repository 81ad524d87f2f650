// When each frame of a video is shown, and which frames are keyframes, read from the packets of its
// first video stream: ffprobe demuxes only, no decoding (an hour of 1080p H.264 in about a second
// here). Segment planning splits at the keyframes (segments.ts); sparse sampling seeks straight to
// the frame on screen at each sample's time (seek-decoding.ts).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_ALLOWED_CONTAINERS } from '../config/pipeline.ts';
import { mediaBinaries } from './binaries.ts';
import { DecodeDamageCounter } from './decode-damage.ts';
import { safeInput, safeInputOptions } from './media-safety.ts';

const run = promisify(execFile);

export interface FrameTimes {
  /** Presentation time of every frame, seconds from the video's start, ascending. */
  readonly frames: readonly number[];
  /** Presentation time of every keyframe, likewise. */
  readonly keyframes: readonly number[];
  /** Damage ffprobe reported while reading the packets (a file cut short, broken packets): its lines. */
  readonly damage: readonly string[];
}

export interface FrameTimesOptions {
  /** The container's start time (the probe's), subtracted from every time. */
  readonly startTime: number;
  readonly allowedContainers?: readonly string[];
  readonly timeoutMs?: number;
  /**
   * Only the packets between these times (seconds from the video's start; ffprobe seeks near
   * `from`, so frames somewhat before it may be listed, or, where the container seeks loosely, the
   * list may begin after it). Absent: the whole video.
   */
  readonly between?: { readonly from: number; readonly to: number };
}

/**
 * Lists the frame and keyframe times of `file`'s first video stream. Times are computed from the
 * integer timestamps and the stream's time base (ffprobe's printed seconds are rounded to the
 * microsecond, enough to put a seek after the frame it names). Packets the demuxer marks to be
 * discarded (before an edit list's start) are no frames of the video.
 */
export async function listFrameTimes(file: string, options: FrameTimesOptions): Promise<FrameTimes> {
  const args = [
    ...safeInputOptions(options.allowedContainers ?? DEFAULT_ALLOWED_CONTAINERS),
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=time_base:packet=pts,flags',
    '-of',
    'csv=p=1',
  ];
  // ffprobe's intervals are on the container's own clock.
  const { between } = options;
  if (between) args.push('-read_intervals', `${between.from + options.startTime}%${between.to + options.startTime}`);
  args.push(safeInput(file));
  const { stdout, stderr } = await run(mediaBinaries().ffprobe, args, {
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs ?? 60_000,
  });
  let timeBase: number | undefined;
  const packets: { pts: number; flags: string }[] = [];
  for (const line of stdout.split('\n')) {
    const [kind, first, second] = line.split(',');
    if (kind === 'stream' && first !== undefined) {
      const [numerator, denominator] = first.split('/').map(Number);
      if (numerator! > 0 && denominator! > 0) timeBase = numerator! / denominator!;
    } else if (kind === 'packet' && first !== undefined && first !== 'N/A' && second !== undefined) {
      const pts = Number(first);
      if (Number.isFinite(pts)) packets.push({ pts, flags: second });
    }
  }
  const counter = new DecodeDamageCounter();
  const damage = stderr.split('\n').flatMap((line) => Array<string>(counter.add(line)).fill(line));
  if (timeBase === undefined) return { frames: [], keyframes: [], damage };
  const seconds = (pts: number) => pts * timeBase! - options.startTime;
  const ascending = (a: number, b: number) => a - b;
  return {
    frames: packets
      .filter((p) => !p.flags.includes('D'))
      .map((p) => seconds(p.pts))
      .sort(ascending),
    keyframes: packets
      .filter((p) => p.flags.startsWith('K'))
      .map((p) => seconds(p.pts))
      .sort(ascending),
    damage,
  };
}
