// `fer-stream config [--all] [--changed] [--json]`: the settings as this environment makes them,
// and where each came from (its default or the environment), secrets masked: the operator-facing
// ones and any advanced one that is set, or every one with --all. A command's own flags override
// these for that command only (its --help lists them).

import { effectiveSettings } from '../../config/effective.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';

const config: Command = {
  summary: 'The effective settings and where each came from (default or environment), secrets masked',
  usage: [
    'Usage: fer-stream config [--all] [--changed] [--json]',
    '',
    '  (default)   the operator-facing settings, and any advanced one the environment sets',
    '  --all       every setting, advanced ones included',
    '  --changed   only the settings the environment sets',
    '  --json      one object per setting: name, path, value, source',
    '',
    'Every setting is documented in docs/configuration.md. Flags of a command (analyze --fps …)',
    'override these for that command only. Exit code 2 when a setting is invalid (it says which).',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      all: { type: 'boolean', default: false },
      changed: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length > 0) throw new UsageError('config takes no arguments');
    let settings;
    try {
      settings = effectiveSettings();
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values.changed) settings = settings.filter((s) => s.source === 'environment');
    else if (!values.all) settings = settings.filter((s) => !s.advanced || s.source === 'environment');
    if (values.json) {
      console.log(JSON.stringify(settings, null, 2));
      return EXIT_CODES.ok;
    }
    const width = Math.max(...settings.map((s) => s.name.length), 4);
    for (const s of settings) {
      const notes = [s.source === 'environment' ? 'environment' : '', s.advanced ? 'advanced' : ''].filter(Boolean);
      console.log(
        `${s.name.padEnd(width)}  ${s.value === '' ? '(unset)' : s.value}${notes.length > 0 ? `  [${notes.join(', ')}]` : ''}`,
      );
    }
    return EXIT_CODES.ok;
  },
};

export default config;
