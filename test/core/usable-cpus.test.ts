import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCpuMax, usableCpus } from '../../src/core/usable-cpus.ts';
import { cpuQuotaCgroup } from '../helpers/cpu-cgroup.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** usableCpus() as a child started through `prefix` (taskset, a cgroup) sees it. */
function usableCpusIn(prefix: readonly string[]): unknown {
  const script = "import { usableCpus } from './src/core/usable-cpus.ts'; console.log(JSON.stringify(usableCpus()));";
  const [command, ...args] = [...prefix, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  const run = spawnSync(command!, args, { encoding: 'utf8', cwd: path.resolve(import.meta.dirname, '..', '..') });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

/** A fake cgroup file system: `files` relative to its root. */
function cgroupTree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fer-cgroup-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('usableCpus', () => {
  it('reads cgroup v2 cpu.max: a quota, "max", a quota with a fraction rounded up', () => {
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCpuMax('150000 100000')).toBe(1.5);
    expect(parseCpuMax(undefined)).toBeUndefined();
    const root = cgroupTree({ 'kubepods/pod1/c1/cpu.max': '150000 100000\n' });
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/kubepods/pod1/c1\n', affinity: 64 })).toEqual({
      cpus: 2,
      affinity: 64,
      quota: 1.5,
    });
  });

  it('takes the tightest quota on the way up (a pod limit binds its containers) and never more than the affinity mask', () => {
    const root = cgroupTree({
      'kubepods/cpu.max': 'max 100000',
      'kubepods/pod1/cpu.max': '400000 100000',
      'kubepods/pod1/c1/cpu.max': 'max 100000',
    });
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/kubepods/pod1/c1', affinity: 64 }).cpus).toBe(4);
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/kubepods/pod1/c1', affinity: 3 }).cpus).toBe(3);
  });

  it('reads cgroup v1 cfs quota and period of the cpu controller (hybrid hierarchies list it beside others)', () => {
    const root = cgroupTree({
      'cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000\n',
      'cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    });
    const procSelfCgroup = '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/docker/abc\n';
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup, affinity: 16 })).toEqual({ cpus: 3, affinity: 16, quota: 3 });
    const unlimited = cgroupTree({
      'cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    expect(usableCpus({ cgroupRoot: unlimited, procSelfCgroup: '4:cpu,cpuacct:/\n', affinity: 16 })).toEqual({
      cpus: 16,
      affinity: 16,
      quota: undefined,
    });
  });

  it('without any cgroup file (or a quota under one CPU) it is the affinity mask, and at least 1', () => {
    expect(usableCpus({ cgroupRoot: cgroupTree({}), procSelfCgroup: '0::/\n', affinity: 6 })).toEqual({
      cpus: 6,
      affinity: 6,
      quota: undefined,
    });
    const root = cgroupTree({ 'cpu.max': '20000 100000' });
    expect(usableCpus({ cgroupRoot: root, procSelfCgroup: '0::/', affinity: 6 })).toEqual({
      cpus: 1,
      affinity: 6,
      quota: 0.2,
    });
  });

  it('reads nothing above the mount point, whatever the path in /proc/self/cgroup', () => {
    // A cpu.max beside the mount point is not a cgroup of this process.
    const outside = cgroupTree({ 'cpu.max': '50000 100000', 'cg/.keep': '' });
    expect(usableCpus({ cgroupRoot: path.join(outside, 'cg'), procSelfCgroup: '0::/\n', affinity: 4 })).toEqual({
      cpus: 4,
      affinity: 4,
      quota: undefined,
    });
    // A container without its own cgroup namespace: the host's path does not exist inside, its
    // quota sits at the mount point.
    const inContainer = cgroupTree({ 'cpu.max': '300000 100000' });
    expect(
      usableCpus({ cgroupRoot: inContainer, procSelfCgroup: '0::/system.slice/docker-abc.scope\n', affinity: 8 }).cpus,
    ).toBe(3);
  });

  it('on this machine: os.availableParallelism() unless a quota is tighter', () => {
    const own = usableCpus();
    expect(own.affinity).toBe(os.availableParallelism());
    expect(own.cpus).toBe(Math.min(own.affinity, own.quota === undefined ? Infinity : Math.ceil(own.quota)));
  });
});

describeWithTools('usableCpus under taskset', ['taskset'], () => {
  it('follows the affinity mask a process is started with', () => {
    expect(usableCpusIn(['taskset', '-c', '0'])).toMatchObject({ cpus: 1, affinity: 1 });
  });
});

describe('usableCpus in a real cgroup with a CPU quota', () => {
  const cases: Array<[number, number]> = [
    [0.5, 1],
    [1.5, 2],
  ];
  for (const [quota, cpus] of cases) {
    it(`a quota of ${quota} CPU gives ${cpus} (as root, where a cgroup can be made)`, (context) => {
      const cgroup = cpuQuotaCgroup(`fer-usable-cpus-${process.pid}-${quota * 10}`, quota);
      if ('unavailable' in cgroup) return context.skip(cgroup.unavailable);
      try {
        expect(usableCpusIn(cgroup.prefix)).toEqual({
          cpus: Math.min(cpus, os.availableParallelism()),
          affinity: os.availableParallelism(),
          quota,
        });
      } finally {
        cgroup.remove();
      }
    });
  }
});
