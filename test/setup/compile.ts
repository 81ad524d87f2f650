// The CLI processes the tests start run the compiled JavaScript (bin/compile.js): compile it once
// here, before any test starts one, instead of letting the first few wait on each other.
// @ts-expect-error bin/compile.js is plain JavaScript without types
import { compiledEntry } from '../../bin/compile.js';

export default function setup(): void {
  if ((compiledEntry as (options: { quiet: boolean }) => string | null)({ quiet: true }) === null)
    throw new Error('TypeScript is not installed: npm install (with dev dependencies)');
}
