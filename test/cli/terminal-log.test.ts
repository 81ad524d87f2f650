// One-shot commands log human lines on stderr — on a terminal and off one (a pipe, a CI log) —
// and JSON lines only when FER_LOG_FORMAT=json asks for them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandLogger } from '../../src/cli/terminal-log.ts';
import { runCli } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

function stream(isTTY: boolean): { isTTY: boolean; write: (s: string) => boolean; written: string[] } {
  const written: string[] = [];
  return { isTTY, written, write: (s: string) => written.push(s) > 0 };
}

describe('command logger', () => {
  it('off a terminal: one human line per record on stderr, no JSON', () => {
    const err = stream(false);
    const logger = createCommandLogger(
      'analyze',
      () => ({ log: () => expect.unreachable('no progress view off a terminal') }),
      err as never,
      {},
    );
    logger.warn({ code: 'invalid_video' }, 'video failed: not a readable video file');
    logger.info('not shown at the default level');
    expect(err.written).toEqual(['warn analyze: video failed: not a readable video file (code=invalid_video)\n']);
  });

  it('on a terminal: through the progress view once there is one', () => {
    const err = stream(true);
    const seen: string[] = [];
    let view: { log: (line: string) => void } | undefined = undefined;
    const logger = createCommandLogger('analyze', () => view, err as never, {});
    logger.warn('before the view');
    view = { log: (line) => seen.push(line) };
    logger.warn('after it');
    expect(err.written).toEqual(['warn analyze: before the view\n']);
    expect(seen).toEqual(['warn analyze: after it']);
  });
});

describe('analyze of a broken file, stderr not a terminal', () => {
  const { prefix, cleanup } = testPrefix(import.meta.url);
  let tmp: string;
  let broken: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-log-format-'));
    broken = path.join(tmp, 'broken.mp4');
    await writeFile(broken, 'not a video');
  });
  afterAll(async () => {
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });
  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    REDIS_URL: redisUrl(),
    FER_REDIS_PREFIX: prefix,
    FER_MODELS_DIR: path.join(tmp, 'models'),
    FER_EXECUTION_PROVIDERS: 'cpu',
    ...extra,
  });

  it('says the failure in one human line; FER_LOG_FORMAT=json gives JSON lines instead', async () => {
    const human = await runCli(['analyze', broken, '--out', path.join(tmp, 'out')], env());
    expect(human.code).toBe(1);
    const lines = human.stderr.split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(lines.filter((l) => /^warn analyze: video failed: not a readable video file/.test(l))).toHaveLength(1);

    const json = await runCli(['analyze', broken, '--out', path.join(tmp, 'out')], env({ FER_LOG_FORMAT: 'json' }));
    expect(json.code).toBe(1);
    const records = json.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(records.some((r) => r.level === 40 && r.msg.startsWith('video failed: not a readable video file'))).toBe(
      true,
    );
  }, 120_000);
});
