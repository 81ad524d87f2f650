// The terminal as a user sees it: `analyze` in a real tmux pane 100×10 with more videos than rows
// and a failing one among them. Checked on the pane's whole history (screen + scrollback): no JSON
// log line anywhere, the failure as one human line, bars never redrawn into the scrollback (each
// video's bar appears at most once), a summary line while videos outnumber rows, the exit code.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/command.ts';
import { bin, repoRoot } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const session = `fer-terminal-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });

describeWithTools('analyze on a 10-row terminal', ['tmux', 'ffmpeg'], () => {
  let tmp: string;
  const videos: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-terminal-'));
    for (let i = 1; i <= 11; i++)
      videos.push(generateTestVideo(path.join(tmp, `clip${String(i).padStart(2, '0')}.mp4`), { seconds: 2, rate: 10 }));
    await writeFile(path.join(tmp, 'broken.mp4'), 'this is not a video\n');
    videos.splice(4, 0, path.join(tmp, 'broken.mp4'));
  }, 60_000);
  afterAll(async () => {
    spawnSync('tmux', ['-L', session, 'kill-server'], { stdio: 'ignore' });
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  it('12 videos, one broken: human lines only, no bar reprinted into the scrollback, a summary line', async () => {
    const env = {
      REDIS_URL: redisUrl(),
      FER_REDIS_PREFIX: prefix,
      FER_EXECUTION_PROVIDERS: 'cuda,cpu',
      FER_MODELS_DIR: path.join(tmp, 'models'),
      TERM: 'xterm-256color',
    };
    const exports = Object.entries(env)
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    const command = `cd '${repoRoot}' && env ${exports} node '${bin}' analyze ${videos.map((v) => `'${v}'`).join(' ')} --fps 2 --out '${tmp}/out'; echo "EXIT=$?"; sleep 600`;
    tmux('new-session', '-d', '-x', '100', '-y', '10', '-s', 'analyze', command);
    tmux('set-option', '-t', 'analyze', 'history-limit', '5000');
    let history = '';
    for (let waited = 0; waited < 120_000 && !/EXIT=\d/.test(history); waited += 500) {
      await sleep(500);
      history = tmux('capture-pane', '-p', '-J', '-t', 'analyze', '-S', '-5000');
    }
    const exit = /EXIT=(\d+)/.exec(history);
    expect(exit, history).not.toBeNull();
    expect(Number(exit![1])).toBe(EXIT_CODES.partial);

    const lines = history.split('\n');
    // No JSON log lines; the broken file's failure as one human warning line while running.
    expect(
      lines.filter((l) => /^\s*\{.*"level"/.test(l)),
      history,
    ).toEqual([]);
    expect(
      lines.filter((l) => /^warn analyze: video failed: not a readable video file/.test(l)),
      history,
    ).toHaveLength(1);
    // Every bar drawn in place: at most one bar per video anywhere in the history.
    for (const video of videos) {
      const name = path.basename(video);
      const bars = lines.filter((l) => l.includes(name) && /\[[#-]{24}\]/.test(l));
      expect(bars.length, `${name}:\n${history}`).toBeLessThanOrEqual(1);
    }
    // The summary stands in for the videos that do not fit, and the final report lists all 12.
    expect(history).toMatch(/12 videos: \d+ completed, \d+ failed, \d+ to go/);
    expect(
      lines.filter((l) => / → .*\.json, .*\.csv, .*\.tracks\.csv, .*\.persons\.csv, .*\.svg, .*\.png$/.test(l)),
    ).toHaveLength(11);
    expect(lines.filter((l) => /broken\.mp4: FAILED \(invalid_video\)/.test(l))).toHaveLength(1);
  }, 180_000);
});
