// How many intra-op threads each onnxruntime session gets. `auto` (the default) shares the CPUs
// this process can keep busy (affinity mask and cgroup quota, core/usable-cpus.ts) among the
// sessions of a host; `0` leaves the choice to onnxruntime, whose count of "physical cores" is
// wrong on some machines in both directions (see usable-cpus.ts); a number is taken as it is.

import { usableCpus } from '../../core/usable-cpus.ts';

export type IntraOpThreadsSetting = number | 'auto';

/** The intra-op thread count for each of `sessions` sessions, and how it was chosen (for the log). */
export function resolveIntraOpThreads(setting: IntraOpThreadsSetting, sessions = 1): { threads: number; why: string } {
  if (setting !== 'auto')
    return {
      threads: setting,
      why: setting === 0 ? 'onnxruntime chooses (FER_INTRA_OP_THREADS=0)' : 'FER_INTRA_OP_THREADS',
    };
  const usable = usableCpus();
  const threads = Math.max(1, Math.floor(usable.cpus / Math.max(1, sessions)));
  const quota = usable.quota === undefined ? 'no CPU quota' : `a CPU quota of ${+usable.quota.toFixed(2)}`;
  return {
    threads,
    why: `auto: ${usable.cpus} usable CPU(s) (${usable.affinity} in the affinity mask, ${quota}) over ${sessions} session(s)`,
  };
}
