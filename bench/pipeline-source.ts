// What bench:overhead and bench:transport-floor share: the generated source video they decode and
// per-process CPU time read from /proc, so both measure the same frames the same way.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mediaBinaries } from '../src/producer/index.ts';

/** A side×side mpeg4 testsrc video at `rate` frames/s, long enough for `frames` frames at that rate. */
export function generateSourceVideo(file: string, options: { side: number; rate: number; frames: number }): void {
  const { side, rate, frames } = options;
  execFileSync(mediaBinaries().ffmpeg, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${side}x${side}:rate=${rate}:duration=${Math.ceil(frames / rate)}`,
    '-c:v',
    'mpeg4',
    '-q:v',
    '5',
    file,
  ]);
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU seconds a process used (user + system), with its reaped children (e.g. a producer's ffmpeg) unless told not to.
 */
export function cpuSeconds(pid: number | 'self', options: { children?: boolean } = {}): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 0; utime 11, stime 12, cutime 13, cstime 14.
  const own = Number(fields[11]) + Number(fields[12]);
  const children = options.children === false ? 0 : Number(fields[13]) + Number(fields[14]);
  return (own + children) / TICKS_PER_SECOND;
}
