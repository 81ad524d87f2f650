import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/command.ts';
import { CONFIG_ENV_VARS, OPERATOR_SETTINGS } from '../../src/config/index.ts';
import { repoRoot, runCli } from '../helpers/cli-processes.ts';

// `fer-stream config`: every setting once, its source, secrets masked; an invalid one named.

const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONFIG_ENV_VARS.includes(name)));

it('lists every setting with its source; --changed the ones set; tokens, secrets and URL passwords masked', async () => {
  const env = {
    ...clean,
    FER_API_TOKENS: 'alice:s3cret-token,bob:other',
    FER_WEBHOOK_SECRET: 'hush-hush-hush-hush',
    REDIS_URL: 'redis://app:pa55@10.0.0.5:6380/2',
    FER_FPS: '3',
  };
  const all = JSON.parse((await runCli(['config', '--all', '--json'], env)).stdout) as Array<{
    name: string;
    value: string;
    source: string;
  }>;
  expect(all.map((s) => s.name).sort()).toEqual([...CONFIG_ENV_VARS].sort());
  const byName = new Map(all.map((s) => [s.name, s]));
  expect(byName.get('FER_FPS')).toMatchObject({ value: '3', source: 'environment' });
  expect(byName.get('FER_MAX_BATCH_SIZE')!.source).toBe('default');
  expect(byName.get('FER_API_TOKENS')!.value).toBe('alice:****,bob:****');
  expect(byName.get('FER_WEBHOOK_SECRET')!.value).toBe('****');
  expect(byName.get('REDIS_URL')!.value).toBe('redis://app:****@10.0.0.5:6380/2');

  const changed = await runCli(['config', '--changed'], env);
  expect(changed.code).toBe(EXIT_CODES.ok);
  const lines = changed.stdout.trim().split('\n');
  expect(lines).toHaveLength(4);
  expect(lines.every((l) => l.endsWith('[environment]'))).toBe(true);
  expect(changed.stdout).not.toMatch(/s3cret|hush|pa55|other/);
});

it('shows the operator-facing settings and any advanced one that is set; --all every one', async () => {
  const names = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/)[0]);
  const env = { ...clean, FER_MAX_STALLED_COUNT: '3' };
  const shown = names((await runCli(['config'], env)).stdout);
  expect(shown.sort()).toEqual([...OPERATOR_SETTINGS, 'FER_MAX_STALLED_COUNT'].sort());
  expect((await runCli(['config'], env)).stdout).toMatch(/^FER_MAX_STALLED_COUNT\s+3\s+\[environment, advanced\]$/m);
  expect(names((await runCli(['config', '--all'], env)).stdout).sort()).toEqual([...CONFIG_ENV_VARS].sort());
});

it('an invalid setting: exit 2, naming it', async () => {
  const out = await runCli(['config'], { ...clean, FER_FPS: 'fast' });
  expect(out.code).toBe(EXIT_CODES.usage);
  expect(out.stderr).toMatch(/pipeline\.fps/);
});

it("prints what the README's Settings section shows for its example", async () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = /```console\n\$ (.*) npx fer-stream config --changed\n([\s\S]*?)```/.exec(readme);
  expect(block, 'README.md: the `fer-stream config --changed` example').not.toBeNull();
  const env = Object.fromEntries(block![1]!.split(' ').map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
  const out = await runCli(['config', '--changed'], { ...clean, ...env });
  expect(out.stdout).toBe(block![2]);
});
