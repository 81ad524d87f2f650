// Sparse sampling by seeking (issue 25, "decode only what sampling needs"): when samples lie far
// apart, each one can be decoded on its own — seek to the keyframe at or before it, decode up to
// it — instead of decoding every frame of the video and letting the fps filter pick. Measured
// against the exact sampling decode of the same file in the same run: ffmpeg's CPU (one thread,
// GNU time) and whether every sampled frame comes out byte-identical (same frame, same time: the
// bar for keeping a way). Used by bench:decode-modes.

import { spawnSync } from 'node:child_process';

export interface SeekRow {
  readonly fps: number;
  readonly frames: number;
  /** Seconds between keyframes (the encoder's GOP). */
  readonly keyframeInterval: number;
  /** CPU s of the exact sampling decode (every frame decoded, the fps filter picks). */
  readonly exactCpu: number;
  /** CPU s of one seek-and-decode per sample, summed (process starts included). */
  readonly seekCpu: number;
  /** Samples whose RGB bytes are identical to the producer's pick (the frame on screen at n / fps). */
  readonly identical: number;
  /** …and to the fps filter's default pick (round=near: the last frame before (n + 0.5) / fps). */
  readonly identicalToShown: number;
}

/** User + system CPU seconds and stdout of one ffmpeg run under GNU time. */
function timed(ffmpeg: string, args: string[]): { cpu: number; out: Buffer } {
  const run = spawnSync('/usr/bin/time', ['-f', '%U %S', ffmpeg, '-v', 'error', '-nostdin', '-threads', '1', ...args], {
    maxBuffer: 1 << 30,
  });
  const [user, system] = run.stderr.toString().trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user! + system!, out: run.stdout };
}

/**
 * Samples `file` at `fps` (scaled to `width` px wide, RGB) both ways. Sample n is the frame at
 * n / fps: the fps filter's pick, and with `-ss` before the input ffmpeg seeks to the keyframe
 * before it and decodes up to it (accurate seek), so both give the frame shown at that time.
 */
export function compareSeeking(
  ffmpeg: string,
  file: string,
  options: { fps: number; seconds: number; width: number; frameBytes: number; keyframeInterval: number },
): SeekRow {
  const scale = `scale=${options.width}:-2:flags=area`;
  const raw = ['-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'];
  // The producer's sampling filter (src/producer/frames.ts), and the fps filter's default (round=near).
  const exact = timed(ffmpeg, ['-i', file, '-vf', `fps=${options.fps}:round=up:start_time=0,${scale}`, ...raw]);
  const shown = timed(ffmpeg, ['-i', file, '-vf', `fps=${options.fps},${scale}`, ...raw]).out;
  const frames = Math.floor(exact.out.length / options.frameBytes);
  let seekCpu = 0;
  let identical = 0;
  let identicalToShown = 0;
  for (let n = 0; n < frames; n++) {
    const at = n / options.fps;
    if (at >= options.seconds) break;
    const one = timed(ffmpeg, ['-ss', at.toFixed(6), '-i', file, '-frames:v', '1', '-vf', scale, ...raw]);
    seekCpu += one.cpu;
    const expected = exact.out.subarray(n * options.frameBytes, (n + 1) * options.frameBytes);
    if (one.out.length === options.frameBytes && one.out.equals(expected)) identical++;
    const onScreen = shown.subarray(n * options.frameBytes, (n + 1) * options.frameBytes);
    if (one.out.length === options.frameBytes && one.out.equals(onScreen)) identicalToShown++;
  }
  return {
    fps: options.fps,
    frames,
    keyframeInterval: options.keyframeInterval,
    exactCpu: exact.cpu,
    seekCpu,
    identical,
    identicalToShown,
  };
}
