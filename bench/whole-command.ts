// bench:whole-command — issue 25's two whole-command bars, measured side by side in one run on the
// 60 s talking-face clip encoded as a phone records it (x264 veryfast, B-frames):
//   1. `analyze --profile compact --fps 2` of the 1080p encode against ffmpeg's plain full decode of
//      the same file (`-f null`, one thread);
//   2. `analyze --profile vit --fps 2` (int8, reuse off) of the 1080p encode against the same of a
//      640×360 encode of the same content.
// CPU = user + system of the whole command and the children it waits for (ffprobe, ffmpeg), GNU
// time; redis-server's own CPU (its own process here, INFO cpu) beside it. Rounds alternate.
//
//   FER_SHARED_DIR=../shared npm run bench:whole-command -- [--rounds 2] [--seconds 60]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { mediaBinaries } from '../src/producer/binaries.ts';
import { OwnRedis, redisCpuSeconds } from '../test/helpers/own-redis.ts';
import { benchModels, encodeLikeARecording, REPO, talkingFaceVideo, X264_LIKE_A_PHONE } from './pipeline/setup.ts';

if (!existsSync('/usr/bin/time')) {
  console.error('bench:whole-command measures CPU with GNU time: apt-get install time');
  process.exit(1);
}
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '60' } },
});
const seconds = Number(values.seconds);
const shared = process.env.FER_SHARED_DIR;
const ffmpeg = mediaBinaries().ffmpeg;
const models = await benchModels(shared);
const { file: talking } = await talkingFaceVideo(shared);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-whole-'));
const encode = (name: string, scale: string) =>
  encodeLikeARecording(ffmpeg, talking, path.join(tmp, name), { seconds, scale, codec: X264_LIKE_A_PHONE });
const hd = encode('talking-1080p.mp4', '1920:1080');
const small = encode('talking-640x360.mp4', '640:360');
const redis = await OwnRedis.start({ persistence: false });
const redisClient = new Redis(redis.url);

interface Run {
  readonly name: string;
  readonly cpu: number;
  readonly wall: number;
  readonly redisCpu: number;
}

/** GNU time around `command`: wall s and user + system CPU s (the children it waited for included). */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const run = spawnSync('/usr/bin/time', ['-f', '%e %U %S', command, ...args], { encoding: 'utf8', env });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr.slice(-1500)}`);
  const [wall, user, system] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + system! };
}

async function analyze(name: string, file: string, profile: 'compact' | 'vit'): Promise<Run> {
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    FER_REDIS_PREFIX: `bench-whole-${profile}`,
    FER_MODELS_DIR: models.modelsDir,
    FER_EXECUTION_PROVIDERS: 'cpu',
    FER_METRICS_ENABLED: '0',
    LOG_LEVEL: 'warn',
    ...(profile === 'vit' ? { FER_REUSE_MAX_FRAMES: '0', FER_MODEL_VARIANT: 'model_quantized' } : {}),
  };
  const out = path.join(tmp, 'out');
  const before = await redisCpuSeconds(redisClient);
  const bin = path.join(REPO, 'bin', 'fer-stream.js');
  const run = timed(process.execPath, [bin, 'analyze', file, '--profile', profile, '--fps', '2', '--out', out], env);
  const redisCpu = (await redisCpuSeconds(redisClient)) - before;
  rmSync(out, { recursive: true, force: true });
  return { name, ...run, redisCpu };
}

const runs: Run[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const decode = timed(ffmpeg, ['-v', 'error', '-nostdin', '-threads', '1', '-i', hd, '-f', 'null', '-']);
  runs.push({ name: 'ffmpeg plain full decode, 1080p', ...decode, redisCpu: 0 });
  runs.push(await analyze('analyze compact, 1080p', hd, 'compact'));
  runs.push(await analyze('analyze vit int8 (reuse off), 1080p', hd, 'vit'));
  runs.push(await analyze('analyze vit int8 (reuse off), 640×360', small, 'vit'));
  console.error(JSON.stringify(runs.slice(-4)));
}
await redisClient.quit();
await redis.stop();
rmSync(tmp, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const cpuOf = (name: string) => median(runs.filter((r) => r.name === name).map((r) => r.cpu));
console.log(`bench:whole-command — ${seconds} s of the talking-face clip at 2 frames/s, ${values.rounds} rounds`);
console.log('| run | CPU s (command + children), each round | median | wall s | redis-server CPU s |');
console.log('| --- | --- | ---: | --- | --- |');
for (const name of [...new Set(runs.map((r) => r.name))]) {
  const mine = runs.filter((r) => r.name === name);
  console.log(
    `| ${name} | ${mine.map((r) => r.cpu.toFixed(2)).join(', ')} | ${cpuOf(name).toFixed(2)} | ${mine.map((r) => r.wall.toFixed(1)).join(', ')} | ${mine.map((r) => r.redisCpu.toFixed(2)).join(', ')} |`,
  );
}
const bar1 = cpuOf('analyze compact, 1080p') / cpuOf('ffmpeg plain full decode, 1080p');
const bar2 = cpuOf('analyze vit int8 (reuse off), 1080p') / cpuOf('analyze vit int8 (reuse off), 640×360');
console.log(`\ncompact 1080p / plain full decode: ${bar1.toFixed(2)}× (bar ≤ 1.0×)`);
console.log(`vit 1080p / vit 640×360: ${bar2.toFixed(2)}× (bar ≤ 1.15×)`);
