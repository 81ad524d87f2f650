// Errors of assembling a process, with the exit code a command ends with (the CLI's dispatcher
// reads `exitCode`): the app layer knows nothing of the CLI's parsing, only what went wrong.

/** A choice that cannot work: an unknown analyzer, a model directory that is not one (exit 2, like bad usage). */
export class InvalidChoiceError extends Error {
  override name = 'InvalidChoiceError';
  readonly exitCode = 2;
}

/** A service refuses to start as configured: an API on the network without tokens (exit 1). */
export class StartupRefusedError extends Error {
  override name = 'StartupRefusedError';
  readonly exitCode = 1;
}
