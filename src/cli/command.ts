// What every CLI command implements, and the exit codes (stable, documented in the README).
// Kept apart from main.ts (the registry that loads the commands) so commands import it without a cycle.

export interface Command {
  readonly summary: string;
  readonly usage: string;
  /** Returns the process exit code (see EXIT_CODES). */
  run(args: string[]): Promise<number>;
}

/** Exit codes: stable, documented in the README. */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** At least one video failed while others succeeded. */
  partial: 3,
  /** A service the command needs (Redis) cannot be reached. */
  unavailable: 4,
  /** The video is not finished yet (results asked too early): try again later. */
  pending: 5,
  /**
   * Stopped by Ctrl-C (SIGINT) or SIGTERM: what the command had submitted was cancelled (128 + SIGINT, as shells report
   * it).
   */
  interrupted: 130,
} as const;
