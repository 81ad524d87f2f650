import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractFrames, type VideoProbe } from '../../src/producer/index.ts';

// fluent-ffmpeg reports "Output stream closed" and kills ffmpeg when ffmpeg has not exited within
// 20 ms of closing its stdout — which happens under load. A stand-in ffmpeg reproduces it every
// time: it writes its frames, closes stdout, then lingers before exiting. Every frame was
// delivered, so extraction must succeed; a stand-in that exits non-zero before the race must fail.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-ffmpeg-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH = 4;
const HEIGHT = 2;
const FRAMES = 10;

function standIn(name: string, afterOutput: string): string {
  const file = path.join(dir, name);
  // Capability queries (-formats, -codecs, …) go to the real ffmpeg; the run itself is faked.
  writeFileSync(
    file,
    `#!/bin/sh
case "$*" in *-formats*|*-codecs*|*-encoders*|*-filters*) exec ffmpeg "$@";; esac
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

describe('ffmpeg exiting after its stdout closed', () => {
  it('keeps every frame when ffmpeg lingers past fluent-ffmpeg\'s 20 ms after closing stdout', async () => {
    process.env.FFMPEG_PATH = standIn('lingering-ffmpeg', 'exec 1>&-\nsleep 1\nexit 0');
    await expect(count()).resolves.toBe(FRAMES);
  });
});
