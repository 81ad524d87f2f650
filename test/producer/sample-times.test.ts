import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { extractFrames, mediaBinaries, probeVideo, type SamplingOptions } from '../../src/producer/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// A sampled frame's recorded time is the true time of the frame analysed: sample n, recorded at
// start + n / fps, is the source frame on screen then (the last one at or before it), byte for
// byte. ffmpeg's fps filter by default picks the last frame before start + (n + 0.5) / fps —
// half a sample interval late — which is what this guards against.

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-sample-times-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every frame of `file`, decoded at its own size as the producer converts it (rgb24). */
function fullDecode(file: string, width: number, height: number): Buffer[] {
  const out = execFileSync(
    mediaBinaries().ffmpeg,
    [
      '-v',
      'error',
      '-i',
      file,
      '-vf',
      `scale=${width}:${height}:flags=area`,
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      '-',
    ],
    { maxBuffer: 1 << 30 },
  );
  const size = width * height * 3;
  return Array.from({ length: out.length / size }, (_, i) => out.subarray(i * size, (i + 1) * size));
}

describeWithTools('sampled frames are the frames on screen at their recorded times', ['ffmpeg'], () => {
  const cases: Array<{ rate: string; sourceFps: number; sampling: Omit<SamplingOptions, 'maxSide'> }> = [
    { rate: '25', sourceFps: 25, sampling: { fps: 2 } },
    { rate: '30000/1001', sourceFps: 30000 / 1001, sampling: { fps: 2 } },
    { rate: '25', sourceFps: 25, sampling: { fps: 0.5 } },
    { rate: '30000/1001', sourceFps: 30000 / 1001, sampling: { fps: 3, startSeconds: 3.3, endSeconds: 9 } },
  ];
  for (const { rate, sourceFps, sampling } of cases) {
    it(`${rate} fps source, ${JSON.stringify(sampling)}`, async () => {
      const file = generateTestVideo(path.join(dir, `v-${rate.replace('/', '_')}.mp4`), {
        seconds: 12,
        width: 160,
        height: 120,
        rate,
      });
      const source = fullDecode(file, 160, 120);
      const probe = await probeVideo(file, loadConfig({}).pipeline);
      const picked: Array<{ time: number; frame: number }> = [];
      for await (const frame of extractFrames(file, probe, { ...sampling, maxSide: 160, decodeThreads: 1 })) {
        picked.push({ time: frame.timestamp, frame: source.findIndex((f) => f.equals(frame.data)) });
      }
      expect(picked.length).toBeGreaterThan(3);
      const onScreen = (time: number) => Math.floor(time * sourceFps + 1e-6);
      const start = sampling.startSeconds ?? 0;
      for (const [n, { time, frame }] of picked.entries()) {
        expect(time).toBeCloseTo(start + n / sampling.fps, 6);
        // A start between two source frames: the seek keeps frames from the start on, so sample 0
        // may be the next frame (at most one source frame after its time); every other is exact.
        const allowed = n === 0 && start > 0 ? [onScreen(time), onScreen(time) + 1] : [onScreen(time)];
        expect(allowed, `sample ${n} at ${time} s is source frame ${frame}`).toContain(frame);
      }
    });
  }
});
