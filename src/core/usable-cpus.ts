// How many CPUs this process can actually keep busy: the CPUs it may run on (its affinity mask,
// as `taskset` or a cpuset sets it) and, in a container, its cgroup's CPU quota (a Kubernetes CPU
// limit, `docker run --cpus`). Neither the core count of the machine nor onnxruntime's own guess
// is that number: onnxruntime counts "physical cores" and on some VMs counts one where two can
// run (measured on a 2-vCPU AMD EPYC: 1 intra-op thread, half the speed), while in a container
// limited to 2 CPUs on a 64-core node it starts 64 threads that the quota then throttles.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface UsableCpus {
  /** CPUs this process can keep busy: min(affinity, quota rounded up), at least 1. */
  readonly cpus: number;
  /** CPUs in the affinity mask (os.availableParallelism()). */
  readonly affinity: number;
  /** The tightest cgroup CPU quota on the way to the root, in CPUs (undefined: none set). */
  readonly quota: number | undefined;
}

export interface UsableCpusSources {
  /** Where cgroup file systems are mounted (default /sys/fs/cgroup). */
  readonly cgroupRoot?: string;
  /** Contents of /proc/self/cgroup (default: read it). */
  readonly procSelfCgroup?: string;
  /** CPUs in the affinity mask (default os.availableParallelism()). */
  readonly affinity?: number;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** cgroup v2 `cpu.max` ("max 100000" or "200000 100000") as CPUs; undefined when unlimited or unreadable. */
export function parseCpuMax(text: string | undefined): number | undefined {
  const [quota, period] = (text ?? '').trim().split(/\s+/);
  if (!quota || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` as CPUs; -1 (or unreadable) is unlimited. */
function parseCfs(quotaText: string | undefined, periodText: string | undefined): number | undefined {
  const q = Number(quotaText?.trim());
  const p = Number(periodText?.trim());
  return Number.isFinite(q) && q > 0 && p > 0 ? q / p : undefined;
}

export interface CgroupDir {
  /** The process's own cgroup directory. */
  readonly dir: string;
  /** Its hierarchy's mount point: the walk up for quotas stops there. */
  readonly mount: string;
}

/** The process's cgroup directories, from /proc/self/cgroup: v2 ("0::/path") and v1's cpu controller. */
export function cgroupDirs(procSelfCgroup: string, root: string): { v2?: CgroupDir; v1?: CgroupDir } {
  const dirs: { v2?: CgroupDir; v1?: CgroupDir } = {};
  for (const line of procSelfCgroup.split('\n')) {
    const [id, controllers, cgPath] = line.split(':');
    if (cgPath === undefined || controllers === undefined) continue;
    // resolve, not join: "/" must give the mount point itself, not it with a trailing slash.
    if (id === '0' && controllers === '')
      dirs.v2 = { dir: path.resolve(root, `.${cgPath}`), mount: path.resolve(root) };
    else if (controllers.split(',').includes('cpu'))
      dirs.v1 = { dir: path.resolve(root, controllers, `.${cgPath}`), mount: path.resolve(root, controllers) };
  }
  return dirs;
}

/** The tightest quota from the process's cgroup up to its mount point (a parent's limit binds its children too). */
function tightestQuota({ dir, mount }: CgroupDir, read: (d: string) => number | undefined): number | undefined {
  let tightest: number | undefined;
  for (let d = dir; ; d = path.dirname(d)) {
    const q = read(d);
    if (q !== undefined) tightest = tightest === undefined ? q : Math.min(tightest, q);
    if (d === mount || !d.startsWith(`${mount}/`)) break;
  }
  return tightest;
}

export function usableCpus(sources: UsableCpusSources = {}): UsableCpus {
  const root = sources.cgroupRoot ?? '/sys/fs/cgroup';
  const affinity = Math.max(1, sources.affinity ?? os.availableParallelism());
  const dirs = cgroupDirs(sources.procSelfCgroup ?? readText('/proc/self/cgroup') ?? '', root);
  let quota: number | undefined;
  if (dirs.v2 !== undefined) quota = tightestQuota(dirs.v2, (d) => parseCpuMax(readText(path.join(d, 'cpu.max'))));
  if (quota === undefined && dirs.v1 !== undefined) {
    quota = tightestQuota(dirs.v1, (d) =>
      parseCfs(readText(path.join(d, 'cpu.cfs_quota_us')), readText(path.join(d, 'cpu.cfs_period_us'))),
    );
  }
  // A quota of 1.5 CPUs still runs two threads at once part of the time: round up.
  const cpus = Math.max(1, Math.min(affinity, quota === undefined ? affinity : Math.ceil(quota - 1e-9)));
  return { cpus, affinity, quota };
}
