// bench:transport-floor — what moving 224×224 rgb24 frames costs before any pipeline code runs:
// the floor under bench:overhead. Three measurements on the same generated video, in one run:
//   1. ffmpeg decoding + converting to rgb24, output discarded by ffmpeg itself (no pipe);
//   2. the same ffmpeg writing into a pipe that Node reads into a chunk buffer (one copy, nothing else);
//   3. the frame bytes through Redis and back: SET of 32-frame chunks and GET of each from a
//      second connection (our ChunkConnection, the cheapest client we have), then DEL.
// Each reports CPU ms per frame (user + system, every process involved); the sum of 2 and 3 is
// the least CPU a frame can cost end to end, and 2,000 / that sum the most frames/s two cores
// could carry if nothing else ran — no producer logic, no queue, no worker, no results.
//
//   npm run bench:transport-floor -- [--frames N] [--side 224]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ChunkBufferPool, ChunkConnection } from '../src/pipeline/index.ts';
import { mediaBinaries } from '../src/producer/index.ts';
import { cpuSeconds, generateSourceVideo } from './pipeline-source.ts';

const { values } = parseArgs({
  options: { frames: { type: 'string', default: '10000' }, side: { type: 'string', default: '224' } },
});
const FRAMES = Number(values.frames);
const SIDE = Number(values.side);
const FRAME_BYTES = SIDE * SIDE * 3;
const CHUNK_FRAMES = 32;
const RATE = 100;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-floor-'));
const video = path.join(dir, 'source.mp4');
const { ffmpeg } = mediaBinaries();
generateSourceVideo(video, { side: SIDE, rate: RATE, frames: FRAMES });
// The producer's decoding arguments (FER_DECODE_THREADS=1).
const decodeArgs = (output: string) => [
  '-v',
  'error',
  '-threads',
  '1',
  '-filter_threads',
  '1',
  '-i',
  video,
  '-an',
  '-vf',
  `fps=${RATE},scale=${SIDE}:${SIDE}:flags=area`,
  '-pix_fmt',
  'rgb24',
  '-frames:v',
  String(FRAMES),
  '-f',
  'rawvideo',
  '-y',
  output,
];

interface Measure {
  readonly framesPerSecond: number;
  readonly cpuMsPerFrame: number;
}

async function runFfmpeg(output: 'discard' | 'pipe'): Promise<Measure> {
  const chunk = Buffer.allocUnsafe(CHUNK_FRAMES * FRAME_BYTES);
  const before = cpuSeconds('self');
  const start = performance.now();
  const child = spawn(ffmpeg, decodeArgs(output === 'pipe' ? 'pipe:1' : '/dev/null'), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let bytes = 0;
  let filled = 0;
  child.stdout.on('data', (piece: Buffer) => {
    bytes += piece.length;
    let offset = 0;
    while (offset < piece.length) {
      const n = Math.min(chunk.length - filled, piece.length - offset);
      piece.copy(chunk, filled, offset, offset + n);
      filled = (filled + n) % chunk.length;
      offset += n;
    }
  });
  await new Promise((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - start) / 1000;
  const frames = output === 'pipe' ? bytes / FRAME_BYTES : FRAMES;
  if (output === 'pipe' && frames !== FRAMES)
    throw new Error(`expected ${FRAMES} frames through the pipe, got ${frames}`);
  return { framesPerSecond: frames / seconds, cpuMsPerFrame: ((cpuSeconds('self') - before) * 1000) / frames };
}

async function runRedis(): Promise<Measure & { redisMsPerFrame: number }> {
  const pool = new ChunkBufferPool();
  const writer = new ChunkConnection(REDIS_URL, pool);
  const reader = new ChunkConnection(REDIS_URL, pool);
  const admin = new Redis(REDIS_URL);
  const redisPid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
  const chunk = Buffer.alloc(CHUNK_FRAMES * FRAME_BYTES, 7);
  const chunks = Math.ceil(FRAMES / CHUNK_FRAMES);
  const key = (i: number) => `fer-bench-floor-${process.pid}-${i}`;
  const redisBefore = cpuSeconds(redisPid, { children: false });
  const before = cpuSeconds('self', { children: false });
  const start = performance.now();
  // Two chunks in flight, as the producer keeps one in Redis while filling the next.
  let reading: Promise<void> = Promise.resolve();
  for (let i = 0; i < chunks; i++) {
    await writer.set(key(i), chunk, 60);
    await reading;
    reading = reader.get(key(i)).then(async (value) => {
      if (value?.length !== chunk.length) throw new Error(`chunk ${i} came back with ${value?.length} bytes`);
      pool.release(value);
      await admin.del(key(i));
    });
  }
  await reading;
  const seconds = (performance.now() - start) / 1000;
  const frames = chunks * CHUNK_FRAMES;
  const result = {
    framesPerSecond: frames / seconds,
    cpuMsPerFrame: ((cpuSeconds('self', { children: false }) - before) * 1000) / frames,
    redisMsPerFrame: ((cpuSeconds(redisPid, { children: false }) - redisBefore) * 1000) / frames,
  };
  writer.close();
  reader.close();
  admin.disconnect();
  return result;
}

console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `frames: ${FRAMES} × ${SIDE}×${SIDE} rgb24 (${FRAME_BYTES} B) from a ${SIDE}×${SIDE} mpeg4 testsrc video; Redis chunks of ${CHUNK_FRAMES} frames`,
);
const discard = await runFfmpeg('discard');
const pipe = await runFfmpeg('pipe');
const redis = await runRedis();
const floor = pipe.cpuMsPerFrame + redis.cpuMsPerFrame + redis.redisMsPerFrame;
console.log('\n| step | frames/s (wall) | CPU ms/frame |');
console.log('| --- | ---: | ---: |');
console.log(
  `| 1. ffmpeg decode + rgb24, output discarded | ${discard.framesPerSecond.toFixed(0)} | ${discard.cpuMsPerFrame.toFixed(3)} |`,
);
console.log(
  `| 2. ffmpeg → pipe → Node chunk buffer | ${pipe.framesPerSecond.toFixed(0)} | ${pipe.cpuMsPerFrame.toFixed(3)} (pipe alone: ${(pipe.cpuMsPerFrame - discard.cpuMsPerFrame).toFixed(3)}) |`,
);
console.log(
  `| 3. SET + GET + DEL through Redis (clients / redis-server) | ${redis.framesPerSecond.toFixed(0)} | ${redis.cpuMsPerFrame.toFixed(3)} / ${redis.redisMsPerFrame.toFixed(3)} |`,
);
console.log(
  `| floor: 2 + 3 | — | ${floor.toFixed(3)} → at most ${(2000 / floor).toFixed(0)} frames/s on 2 busy cores |`,
);
rmSync(dir, { recursive: true, force: true });
