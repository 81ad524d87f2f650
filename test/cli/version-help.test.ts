// `--version`, `help CMD` and plural forms: the small things a new user meets first.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { count } from '../../src/cli/plural.ts';
import { runCli } from '../helpers/cli-processes.ts';

const run = (args: string[]) => runCli(args);

describe('the CLI says what it is and how to use a command', () => {
  it('--version (and -V, version) prints the package version, exit 0', async () => {
    const { version } = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { version: string };
    for (const flag of ['--version', '-V', 'version']) {
      const out = await run([flag]);
      expect(out.code, flag).toBe(0);
      expect(out.stdout.trim(), flag).toBe(`fer-stream ${version} (Node.js ${process.versions.node})`);
    }
  }, 60_000);

  it("help CMD prints that command's usage, as CMD --help does; help of an unknown command says so", async () => {
    const viaHelp = await run(['help', 'analyze']);
    const viaFlag = await run(['analyze', '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Usage: fer-stream analyze VIDEO/m);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    const unknown = await run(['help', 'analyse']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "analyse" \(did you mean "analyze"\?\)/);
  }, 60_000);

  it('counts agree with their nouns', () => {
    expect(count(1, 'track')).toBe('1 track');
    expect(count(2, 'track')).toBe('2 tracks');
    expect(count(0, 'person')).toBe('0 persons');
    expect(count(1, 'person')).toBe('1 person');
  });
});
