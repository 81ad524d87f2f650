import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/args.ts';
import { closest } from '../../src/cli/suggest.ts';

describe('did you mean', () => {
  it('finds the command or option meant: swapped, missing, extra letters, or a prefix', () => {
    const commands = [
      'analyze',
      'status',
      'submit',
      'results',
      'classify',
      'models',
      'worker',
      'producer',
      'api',
      'demo',
    ];
    expect(closest('anlyze', commands)).toBe('analyze');
    expect(closest('statsu', commands)).toBe('status');
    expect(closest('reslts', commands)).toBe('results');
    expect(closest('class', commands)).toBe('classify');
    expect(closest('xyz', commands)).toBeUndefined();
    expect(closest('fsp', ['fps', 'out', 'profile'])).toBe('fps');
  });

  it("a mistyped option is one line with the suggestion, not Node's text about positionals", () => {
    const options = { fps: { type: 'string' }, profile: { type: 'string' } } as const;
    expect(() => parseCommandArgs(['--profle', 'vit'], options)).toThrow(
      'unknown option --profle (did you mean --profile?); see --help',
    );
    expect(() => parseCommandArgs(['--zzz'], options)).toThrow(/^unknown option --zzz; see --help$/);
  });
});
