import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { usableCpus } from '../../../src/core/usable-cpus.ts';
import { resolveIntraOpThreads } from '../../../src/inference/backend/intra-op-threads.ts';
import { cpuQuotaCgroup } from '../../helpers/cpu-cgroup.ts';
import { describeWithTools } from '../../helpers/system-tools.ts';
import { tinyClassifierOnnx } from '../fixtures/tiny-classifier.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-intra-op-'));
const model = path.join(tmp, 'tiny.onnx');
writeFileSync(model, tinyClassifierOnnx());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * In a process of its own (optionally under `taskset -c 0`): the threads onnxruntime starts for a
 * session with intra-op threads `setting`, beyond those a session with 1 starts (1 = no pool thread).
 */
function poolThreadsStarted(setting: string, prefix: readonly string[] = []): { extra: number; resolved: number } {
  const script = `
    import { readdirSync } from 'node:fs';
    import { openDirectSession } from './src/inference/backend/direct-session.ts';
    import { resolveIntraOpThreads } from './src/inference/backend/intra-op-threads.ts';
    const threads = () => readdirSync('/proc/self/task').length;
    const setting = ${JSON.stringify(setting)} === 'auto' ? 'auto' : Number(${JSON.stringify(setting)});
    const open = async (s) => { const before = threads(); const session = await openDirectSession(${JSON.stringify(model)}, { intraOpThreads: s, graphOptimizationLevel: 'all' }); const after = threads(); await session.release(); return after - before; };
    await open(1); // the first session also starts onnxruntime's process-wide threads
    const one = await open(1);
    const other = await open(setting);
    console.log(JSON.stringify({ extra: other - one, resolved: resolveIntraOpThreads(setting).threads }));`;
  const command = [...prefix, process.execPath];
  const run = spawnSync(command[0]!, [...command.slice(1), '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: REPO,
  });
  if (run.status !== 0) throw new Error(`child exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

describe('resolveIntraOpThreads', () => {
  it('auto shares the usable CPUs among the sessions of a host, at least one each; numbers pass through', () => {
    const cpus = usableCpus().cpus;
    expect(resolveIntraOpThreads('auto').threads).toBe(cpus);
    expect(resolveIntraOpThreads('auto', 2).threads).toBe(Math.max(1, Math.floor(cpus / 2)));
    expect(resolveIntraOpThreads('auto', 1000).threads).toBe(1);
    expect(resolveIntraOpThreads(3, 2)).toEqual({ threads: 3, why: 'FER_INTRA_OP_THREADS' });
    expect(resolveIntraOpThreads(0).threads).toBe(0);
    expect(resolveIntraOpThreads('auto').why).toMatch(/usable CPU/);
  });

  it('onnxruntime starts one pool thread per usable CPU beyond the caller with auto', () => {
    const { extra, resolved } = poolThreadsStarted('auto');
    expect(resolved).toBe(usableCpus().cpus);
    expect(extra).toBe(resolved - 1);
  });
});

describeWithTools('resolveIntraOpThreads under taskset', ['taskset'], () => {
  it('auto in a process pinned to one CPU starts no pool thread (an explicit 2 still does)', () => {
    const pinned = ['taskset', '-c', '0'];
    expect(poolThreadsStarted('auto', pinned)).toEqual({ extra: 0, resolved: 1 });
    expect(poolThreadsStarted('2', pinned)).toEqual({ extra: 1, resolved: 2 });
  });
});

describe('resolveIntraOpThreads in a container with a CPU limit', () => {
  it('auto under a quota of half a CPU starts no pool thread, whatever the machine has (as root, where a cgroup can be made)', (context) => {
    const cgroup = cpuQuotaCgroup(`fer-intra-op-${process.pid}`, 0.5);
    if ('unavailable' in cgroup) return context.skip(cgroup.unavailable);
    try {
      expect(poolThreadsStarted('auto', cgroup.prefix)).toEqual({ extra: 0, resolved: 1 });
    } finally {
      cgroup.remove();
    }
  });
});
