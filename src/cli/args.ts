import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Thrown for bad command-line usage; the dispatcher turns it into exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util parseArgs with usage errors that the dispatcher recognises. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
