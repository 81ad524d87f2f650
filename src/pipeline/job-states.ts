/** BullMQ job states in which a job will still run (or is running). */
export const PENDING_JOB_STATES: ReadonlySet<string> = new Set([
  'active',
  'waiting',
  'delayed',
  'prioritized',
  'waiting-children',
]);

/** Options of every job on the `videos` queue (a video's own and its segments'): one retry, a second later. */
export const PRODUCER_JOB_OPTIONS = {
  attempts: 2,
  backoff: { type: 'fixed' as const, delay: 1000 },
  removeOnComplete: true,
  removeOnFail: 1000,
};
