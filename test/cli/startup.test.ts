// The CLI runs compiled JavaScript (bin/compile.js): compiled once per source state into
// dist/<hash>/, by one process even when several start at once, and again after a source change.
// Runs on a copy of the repository (its own dist/), with the real node_modules linked in.
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const copy = mkdtempSync(path.join(os.tmpdir(), 'fer-startup-'));
for (const item of ['bin', 'src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
  cpSync(path.join(repo, item), path.join(copy, item), { recursive: true });
symlinkSync(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'));

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(copy, 'bin', 'fer-stream.js'), ...args], {
      cwd: copy,
      env: { ...process.env, FER_RUN_SOURCES: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const builds = () => readdirSync(path.join(copy, 'dist')).filter((name) => /^[0-9a-f]{16}$/.test(name));

describe('start-up from compiled JavaScript', () => {
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('three CLIs started at once: one compiles, all run, one build', async () => {
    const runs = await Promise.all([cli('--help'), cli('--help'), cli('classify', '--help')]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs.filter((r) => r.stderr.includes('compiling the sources once')).length).toBe(1);
    expect(runs[0]!.stdout).toMatch(/^fer-stream: facial expressions in videos/);
    expect(builds()).toHaveLength(1);
    // Started again: nothing to compile.
    const again = await cli('--help');
    expect(again.stderr).toBe('');
  }, 120_000);

  it('a changed source is compiled again, and the command runs the new code', async () => {
    const before = builds();
    appendFileSync(path.join(copy, 'src', 'cli', 'suggest.ts'), '\n// changed\n');
    const run = await cli('--help');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('compiling the sources once');
    const after = builds();
    expect(after).toHaveLength(2);
    expect(after.filter((b) => !before.includes(b))).toHaveLength(1);
  }, 120_000);
});
