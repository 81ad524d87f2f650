import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupDirs } from '../../src/core/usable-cpus.ts';

// A real cgroup with a CPU quota, for tests of what a process in a container with a CPU limit
// sees: a child cgroup of this process's own (cgroup v1's cpu controller, or v2 where the cpu
// controller is enabled for children), which needs root. Commands run inside it through a shell
// that moves itself in before exec'ing them.

export interface CpuQuotaCgroup {
  /** Prefix for spawn: `[...prefix, command, ...args]` runs `command` inside the cgroup. */
  readonly prefix: readonly string[];
  remove(): void;
}

/** A cgroup limited to `cpus` CPUs, or why none could be made here. */
export function cpuQuotaCgroup(name: string, cpus: number): CpuQuotaCgroup | { readonly unavailable: string } {
  if (process.getuid?.() !== 0) return { unavailable: 'needs root to make a cgroup' };
  const dirs = cgroupDirs(readFileSync('/proc/self/cgroup', 'utf8'), '/sys/fs/cgroup');
  const own = { v1: dirs.v1?.dir, v2: dirs.v2?.dir };
  const period = 100_000;
  const attempts: Array<{ dir: string; write: (dir: string) => void }> = [];
  if (own.v1)
    attempts.push({
      dir: path.join(own.v1, name),
      write: (d) => writeFileSync(path.join(d, 'cpu.cfs_quota_us'), String(Math.round(cpus * period))),
    });
  if (
    own.v2 &&
    existsSync(path.join(own.v2, 'cgroup.subtree_control')) &&
    readFileSync(path.join(own.v2, 'cgroup.subtree_control'), 'utf8').includes('cpu')
  ) {
    attempts.push({
      dir: path.join(own.v2, name),
      write: (d) => writeFileSync(path.join(d, 'cpu.max'), `${Math.round(cpus * period)} ${period}`),
    });
  }
  const failures: string[] = [];
  for (const { dir, write } of attempts) {
    try {
      mkdirSync(dir, { recursive: true });
      write(dir);
      return {
        prefix: ['bash', '-c', `echo $$ > ${JSON.stringify(path.join(dir, 'cgroup.procs'))} && exec "$0" "$@"`],
        remove: () => rmdirSync(dir),
      };
    } catch (error) {
      failures.push(`${dir}: ${(error as Error).message}`);
      try {
        rmdirSync(dir);
      } catch {
        // not made, or not empty
      }
    }
  }
  return {
    unavailable: failures.length
      ? `could not make a cgroup with a CPU quota (${failures.join('; ')})`
      : 'no cgroup cpu controller this process can make children under',
  };
}
