// The media spawner: children started through the helper process behave as directly spawned ones
// — every byte of stdout, stderr, exit status, a missing program, kill — and when the helper dies,
// later children are spawned directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMedia, spawnMedia, startMediaSpawner, stopMediaSpawner } from '../../src/producer/index.ts';

const collect = async (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
};

for (const mode of ['through the helper', 'directly'] as const) {
  describe(`media processes ${mode}`, () => {
    beforeAll(() => {
      if (mode === 'through the helper') startMediaSpawner();
    });
    afterAll(() => stopMediaSpawner());

    it('hands over every byte of stdout and stderr, then the exit status', async () => {
      // 8 MB on stdout (more than any pipe buffer), a line on stderr, exit code 3.
      const child = spawnMedia('sh', ['-c', 'head -c 8388608 /dev/zero; echo "some warning" >&2; exit 3']);
      const [stdout, stderr, exit] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exited]);
      expect(stdout.length).toBe(8 * 1024 * 1024);
      expect(stderr.toString()).toBe('some warning\n');
      expect(exit).toMatchObject({ code: 3, signal: null });
    });

    it('runMedia: output of a run; a failure like execFile (stderr, code); a timeout kills', async () => {
      expect((await runMedia('ffprobe', ['-version'])).stdout).toMatch(/^ffprobe version/);
      await expect(runMedia('sh', ['-c', 'echo bad >&2; exit 1'])).rejects.toMatchObject({ stderr: 'bad\n', code: 1 });
      await expect(runMedia('sleep', ['10'], { timeoutMs: 200 })).rejects.toMatchObject({ killed: true, signal: 'SIGKILL' });
    });

    it('a program that does not exist: the exit carries the error', async () => {
      const exit = await spawnMedia('/nonexistent/ffmpeg', []).exited;
      expect(exit.error?.message).toMatch(/ENOENT/);
    });
  });
}

describe('the helper gone', () => {
  it('running children end, and later ones start directly', async () => {
    startMediaSpawner();
    const running = spawnMedia('sleep', ['10']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    stopMediaSpawner();
    expect((await running.exited).signal).toBe('SIGKILL');
    const later = spawnMedia('sh', ['-c', 'echo ok']);
    expect((await collect(later.stdout)).toString()).toBe('ok\n');
    expect((await later.exited).code).toBe(0);
  });
});
