/** BullMQ job states in which a job will still run (or is running). */
export const PENDING_JOB_STATES: ReadonlySet<string> = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
