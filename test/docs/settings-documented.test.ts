import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_VARS, OPERATOR_SETTINGS } from '../../src/config/index.ts';
import { repoRoot } from '../helpers/cli-processes.ts';

// Every setting has a row in docs/configuration.md: the configuration's own environment variables,
// and every FER_* name the code reads anywhere else. The README stays short (≤ 300 lines) and
// points there.

/** Read by the code but not settings for people: the CLI wrapper's own hand-off to its child. */
const INTERNAL = new Set(['FER_ARGV_OVER_IPC']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|js|mjs)$/.test(name) ? [file] : [];
  });
}

const docs = readFileSync(path.join(repoRoot, 'docs', 'configuration.md'), 'utf8');
const rows = new Set([...docs.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));

describe('docs/configuration.md', () => {
  it('has a row for every environment variable of the configuration', () => {
    expect(CONFIG_ENV_VARS.length).toBeGreaterThan(80);
    expect(CONFIG_ENV_VARS.filter((name) => !rows.has(name))).toEqual([]);
  });

  it('has a row for every FER_* name the code reads elsewhere', () => {
    const names = new Set<string>();
    for (const file of [...sourceFiles(path.join(repoRoot, 'src')), ...sourceFiles(path.join(repoRoot, 'bin'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\b(FER_[A-Z0-9_]+)\b/g)) names.add(m[1]!);
    }
    expect(names.size).toBeGreaterThan(CONFIG_ENV_VARS.length / 2);
    expect([...names].filter((name) => !rows.has(name) && !INTERNAL.has(name)).sort()).toEqual([]);
  });

  it('marks every row advanced except the operator-facing settings', () => {
    const marked = [...docs.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| [^|]*? \| (\*advanced\* — )?/gm)];
    expect(marked.filter((m) => OPERATOR_SETTINGS.includes(m[1]!) === Boolean(m[2])).map((m) => m[1])).toEqual([]);
  });

  it('lists no setting the code does not read (rows left behind by a removed knob)', () => {
    const code = [...sourceFiles(path.join(repoRoot, 'src')), ...sourceFiles(path.join(repoRoot, 'bin'))]
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect([...rows].filter((name) => !code.includes(name))).toEqual([]);
  });
});

describe('README.md', () => {
  it('its settings table holds exactly the operator-facing settings (at most 40), each a real one', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('## Reference'));
    const names = [...table.matchAll(/^\| (`[A-Z][A-Z0-9_]+`(?: \/ `[A-Z][A-Z0-9_]+`)*) \|/gm)].flatMap((m) =>
      m[1]!.split(' / ').map((n) => n.replaceAll('`', '')),
    );
    expect(names.sort()).toEqual([...OPERATOR_SETTINGS].sort());
    expect(OPERATOR_SETTINGS.length).toBeLessThanOrEqual(40);
    expect(OPERATOR_SETTINGS.filter((name) => !CONFIG_ENV_VARS.includes(name))).toEqual([]);
  });

  it('stays short: at most 300 lines, the reference in docs/', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    for (const doc of readdirSync(path.join(repoRoot, 'docs')).filter(
      (f) => f.endsWith('.md') && f !== 'dashboard-test-run.md',
    ))
      expect(readme, doc).toContain(`docs/${doc}`);
  });
});
