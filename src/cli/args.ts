import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FerError } from '../core/errors.ts';
import { closest } from './suggest.ts';

/** A command line that cannot work (exit 2): the catalogue's `usage`. */
export class UsageError extends FerError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

/** node:util parseArgs with usage errors that the dispatcher recognises. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    // Node's text for a typo explains positional arguments; a user wants the option they meant.
    const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message);
    if (unknown) {
      const suggestion = closest(unknown[2]!, Object.keys(options ?? {}));
      throw new UsageError(
        `unknown option ${unknown[1]}${unknown[2]}${suggestion ? ` (did you mean --${suggestion}?)` : ''}; see --help`,
      );
    }
    throw new UsageError(message);
  }
}

/** A numeric flag's value (undefined when absent); a usage error saying what it must be otherwise. */
export function numberOption(
  name: string,
  value: string | undefined,
  check: (n: number) => boolean,
  what: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${name} must be ${what}, got "${value}"`);
  return n;
}
