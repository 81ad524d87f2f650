// Decoder threads per codec (issue 25, "decode only what sampling needs"): the producer's sampling
// decode (fps filter, area scale to 640 px, rgb24) of the same file with FER_DECODE_THREADS = 1, 2
// and 0 (ffmpeg decides: one per core and more), wall time and CPU by GNU time. One thread is the
// default because producers decode videos side by side: CPU per video is what a full machine pays.
// Used by bench:decode-modes (--only threads).

import { spawnSync } from 'node:child_process';

export interface ThreadsRow {
  readonly threads: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
}

/** The producer's sampling decode of `file` at `fps` with `threads` (0: ffmpeg's own choice), timed. */
export function timeSamplingDecode(ffmpeg: string, file: string, fps: number, threads: number): ThreadsRow {
  const threading = threads > 0 ? ['-threads', String(threads), '-filter_threads', String(threads)] : [];
  const args = ['-f', '%e %U %S', ffmpeg, '-v', 'error', '-nostdin', ...threading, '-i', file];
  args.push('-vf', `fps=${fps}:round=up:start_time=0,scale=640:-2:flags=area`, '-pix_fmt', 'rgb24', '-f', 'null', '-');
  const run = spawnSync('/usr/bin/time', args, { encoding: 'utf8' });
  const [wall, user, system] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { threads, wallSeconds: wall!, cpuSeconds: user! + system! };
}
