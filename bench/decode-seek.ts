// Sparse sampling by seeking (issue 25, "decode only what sampling needs"), through the producer's
// own code (extractFrameChunks): FER_DECODE_SEEK_SECONDS on — each sample decoded by an ffmpeg
// that seeks to it from the keyframe before (seek-decoding.ts) — against off — every frame decoded,
// the fps filter picks — on the same file in the same run, with ffmpeg's plain full decode
// (`-f null`) beside them. CPU of the ffmpeg/ffprobe runs (the reaped children's, from
// /proc/self/stat) and of Node itself, and whether every sample is byte-identical (the bar for
// keeping a way). Used by bench:decode-modes.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extractFrameChunks, probeVideo } from '../src/producer/index.ts';
import { loadConfig } from '../src/config/index.ts';

export interface SeekRow {
  readonly fps: number;
  readonly frames: number;
  /** Seconds between keyframes (the encoder's GOP). */
  readonly keyframeInterval: number;
  /** CPU s of ffmpeg's plain full decode of the file (`-f null`, one thread). */
  readonly plainDecodeCpu: number;
  /** CPU s of the producer's sampling with every frame decoded: ffmpeg, and Node. */
  readonly fullCpu: number;
  readonly fullNodeCpu: number;
  /** CPU s of the producer's sampling by seeking: ffprobe's listing and one ffmpeg per sample, and Node. */
  readonly seekCpu: number;
  readonly seekNodeCpu: number;
  /** Samples byte-identical between the two (same index, time and pixels). */
  readonly identical: number;
}

/** CPU ms of this process and of the children it has reaped (USER_HZ = 100). */
function cpuNow(): { own: number; children: number } {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { own: (Number(f[11]) + Number(f[12])) * 10, children: (Number(f[13]) + Number(f[14])) * 10 };
}

async function sampled(file: string, fps: number, seekIntervalSeconds: number) {
  const probe = await probeVideo(file, loadConfig({}).pipeline);
  const before = cpuNow();
  const frames: Array<{ time: number; data: Buffer }> = [];
  for await (const chunk of extractFrameChunks(file, probe, {
    fps,
    maxSide: 640,
    decodeThreads: 1,
    seekIntervalSeconds,
    framesPerChunk: 8,
  })) {
    const bytes = chunk.width * chunk.height * 3;
    for (let i = 0; i < chunk.frames; i++)
      frames.push({ time: chunk.timestamps[i]!, data: Buffer.from(chunk.data.subarray(i * bytes, (i + 1) * bytes)) });
    chunk.release();
  }
  const after = cpuNow();
  return { frames, cpu: (after.children - before.children) / 1000, nodeCpu: (after.own - before.own) / 1000 };
}

/** User + system CPU seconds of ffmpeg's plain full decode (GNU time). */
function plainDecodeCpu(ffmpeg: string, file: string): number {
  const run = spawnSync(
    '/usr/bin/time',
    ['-f', '%U %S', ffmpeg, '-v', 'error', '-threads', '1', '-i', file, '-f', 'null', '-'],
    {
      encoding: 'utf8',
    },
  );
  const [user, system] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return user! + system!;
}

/** Samples `file` at `fps` both ways (seeking forced on for one, off for the other) and compares. */
export async function compareSeeking(
  ffmpeg: string,
  file: string,
  options: { fps: number; keyframeInterval: number },
): Promise<SeekRow> {
  const plain = plainDecodeCpu(ffmpeg, file);
  const full = await sampled(file, options.fps, 0);
  const seek = await sampled(file, options.fps, 1 / options.fps);
  const identical = full.frames.filter(
    (frame, i) => seek.frames[i]?.time === frame.time && seek.frames[i]!.data.equals(frame.data),
  ).length;
  return {
    fps: options.fps,
    frames: full.frames.length,
    keyframeInterval: options.keyframeInterval,
    plainDecodeCpu: plain,
    fullCpu: full.cpu,
    fullNodeCpu: full.nodeCpu,
    seekCpu: seek.cpu,
    seekNodeCpu: seek.nodeCpu,
    identical: seek.frames.length === full.frames.length ? identical : -1,
  };
}
