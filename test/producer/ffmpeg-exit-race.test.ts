import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractFrames, type VideoProbe } from '../../src/producer/index.ts';

// ffmpeg's exit status decides, whenever it comes. A stand-in ffmpeg writes its frames, closes
// stdout, then lingers before exiting 0 (what happens under load; a wrapper we used to have
// declared that an error after 20 ms): every frame was delivered, so extraction succeeds. One that
// writes its frames and then exits non-zero fails with ffmpeg's own last line, without paths.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-ffmpeg-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH = 4;
const HEIGHT = 2;
const FRAMES = 10;

function standIn(name: string, afterOutput: string): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `#!/bin/sh
head -c ${WIDTH * HEIGHT * 3 * FRAMES} /dev/zero
${afterOutput}
`,
  );
  chmodSync(file, 0o755);
  return file;
}

const probe: VideoProbe = {
  durationSeconds: 1,
  codedWidth: WIDTH,
  codedHeight: HEIGHT,
  width: WIDTH,
  height: HEIGHT,
  rotation: 0,
  frameRate: 10,
  videoCodec: 'rawvideo',
  audioCodec: null,
  container: 'nut',
  fileBytes: 1,
  startTime: 0,
};

async function count(): Promise<number> {
  let n = 0;
  for await (const _ of extractFrames(path.join(dir, 'input.nut'), probe, { fps: 10, maxSide: 640 })) n += 1;
  return n;
}

// One stand-in for the whole file (the ffmpeg path is resolved once per process); FAKE_FFMPEG_FAILS picks its ending.
process.env.FFMPEG_PATH = standIn(
  'stand-in-ffmpeg',
  `if [ "$FAKE_FFMPEG_FAILS" = 1 ]; then echo "file:${path.join(dir, 'input.nut')}: Invalid data found when processing input" >&2; exit 1; fi\nexec 1>&-\nsleep 1\nexit 0`,
);
afterAll(() => {
  delete process.env.FFMPEG_PATH;
  delete process.env.FAKE_FFMPEG_FAILS;
});

describe('ffmpeg exiting after its stdout closed', () => {
  it('keeps every frame when ffmpeg lingers for a second after closing stdout', async () => {
    await expect(count()).resolves.toBe(FRAMES);
  });

  it("fails with ffmpeg's last line when it exits non-zero after its frames", async () => {
    process.env.FAKE_FFMPEG_FAILS = '1';
    const failure = count();
    await expect(failure).rejects.toMatchObject({ code: 'decode_failed' });
    await expect(failure).rejects.toThrow(
      /^ffmpeg could not decode the video: input\.nut: Invalid data found when processing input$/,
    );
  });
});
