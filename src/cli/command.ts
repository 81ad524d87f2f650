// What every CLI command implements, and the exit codes (stable, documented in the README).
// Kept apart from main.ts (the registry that loads the commands) so commands import it without a cycle.

export interface Command {
  readonly summary: string;
  readonly usage: string;
  /** Returns the process exit code (see EXIT_CODES). */
  run(args: string[]): Promise<number>;
}

/** Exit codes: one table with the error catalogue's (src/core/errors.ts), documented in docs/cli.md. */
export { EXIT_CODES } from '../core/errors.ts';
