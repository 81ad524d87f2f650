// CPU time of a running process, per thread, sampled from /proc (Linux): for benches that split
// a command's CPU into the model and everything around it. Children (ffprobe, ffmpeg) count once
// reaped (cutime + cstime of the process).

import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on Linux

export interface CpuSample {
  /** Date.now() of the sample: comparable with the results' ISO timestamps. */
  readonly at: number;
  /** The process (its main thread has this id too). */
  readonly pid: number;
  /** Thread id → CPU ms so far (user + system). */
  readonly threads: ReadonlyMap<number, number>;
  /** Reaped children's CPU ms so far. */
  readonly children: number;
}

function statFields(file: string): string[] | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * One sample of `pid`, or undefined once it is gone. Fields after the name: utime 11, stime 12, cutime 13, cstime 14.
 */
export function sampleCpu(pid: number): CpuSample | undefined {
  const own = statFields(`/proc/${pid}/stat`);
  if (own === undefined) return undefined;
  const threads = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const tid of tids) {
    const f = statFields(`/proc/${pid}/task/${tid}/stat`);
    if (f) threads.set(Number(tid), (Number(f[11]) + Number(f[12])) * TICK_MS);
  }
  return { at: Date.now(), pid, threads, children: (Number(own[13]) + Number(own[14])) * TICK_MS };
}

/** CPU ms per thread and of the reaped children between the samples nearest to `from` and `to` (Date.now() values). */
export function cpuBetween(
  samples: readonly CpuSample[],
  from: number,
  to: number,
): { threads: Map<number, number>; children: number } {
  if (samples.length === 0) return { threads: new Map(), children: 0 };
  const nearest = (t: number) => samples.reduce((a, b) => (Math.abs(b.at - t) < Math.abs(a.at - t) ? b : a));
  const [a, b] = [nearest(from), nearest(to)];
  const threads = new Map<number, number>();
  for (const [tid, ms] of b.threads) threads.set(tid, ms - (a.threads.get(tid) ?? 0));
  return { threads, children: b.children - a.children };
}
