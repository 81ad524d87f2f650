import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bin, repoRoot } from '../helpers/cli-processes.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// The one-machine commands need no Redis started beforehand: in a network namespace where nothing
// listens on 127.0.0.1:6379, `analyze` starts a private redis-server on a Unix socket, finishes, and
// leaves no process behind; without redis-server on PATH it says in one line how to install it.

const namespace = `fer-test-${process.pid}`;
let ipBinary = 'ip';
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-private-redis-'));

function runInNamespace(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // ip by its full path: the command under test may get a PATH without it.
    const child = spawn(ipBinary, ['netns', 'exec', namespace, process.execPath, bin, ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (error) => resolve({ code: null, output: `${output}${error.message}` }));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function withoutRedisSettings(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FER_METRICS_ENABLED: '0', ...extra };
  for (const name of ['REDIS_URL', 'FER_REDIS_SENTINELS', 'FER_REDIS_CLUSTER']) delete env[name];
  return env;
}

describeWithTools(
  'a private Redis for one-machine commands',
  ['ffmpeg', 'redis-server', 'network namespaces (ip netns, as root)'],
  () => {
    beforeAll(() => {
      ipBinary = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
      execFileSync('ip', ['netns', 'add', namespace]);
      execFileSync('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
      generateTestVideo(path.join(dir, 'clip.mp4'), { seconds: 3, width: 96, height: 72 });
      mkdirSync(emptyBin);
    });
    afterAll(() => {
      execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    });

    it('analyze with nothing on port 6379 starts redis-server on a Unix socket, exits 0 with its results, and leaves no process', async () => {
      const out = path.join(dir, 'out');
      const { code, output } = await runInNamespace(
        ['analyze', path.join(dir, 'clip.mp4'), '--analyzer', 'cost-free', '--out', out],
        withoutRedisSettings(),
      );
      expect(code, output).toBe(0);
      expect(output).toMatch(
        /no Redis on 127\.0\.0\.1:6379: started a private one for this command \(unix:\/\/\S+redis\.sock; stopped when it ends\)/,
      );
      const result = JSON.parse(readFileSync(path.join(out, 'clip.json'), 'utf8')) as {
        counts: { sampled: number; analysed: number };
      };
      expect(result.counts).toMatchObject({ sampled: 6, analysed: 6 });
      // Every process of the namespace is gone (the private redis-server included), and its directory too.
      expect(execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).trim()).toBe('');
      const socketDir = /unix:\/\/(\S+)\/redis\.sock/.exec(output)![1]!;
      expect(existsSync(socketDir)).toBe(false);
    });

    // node itself is started by its absolute path; nothing else is on PATH.
    const emptyBin = path.join(dir, 'empty-bin');
    it('without redis-server on PATH it exits 4 with one line naming the install command', async () => {
      const { code, output } = await runInNamespace(
        ['analyze', path.join(dir, 'clip.mp4'), '--analyzer', 'cost-free', '--out', path.join(dir, 'none')],
        withoutRedisSettings({ PATH: emptyBin }),
      );
      expect(code, output).toBe(4);
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output).toMatch(
        /no Redis answers on 127\.0\.0\.1:6379 and redis-server is not installed to start a private one: sudo apt-get install redis-server \(or set REDIS_URL\)/,
      );
    });
  },
);
