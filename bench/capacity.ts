// The capacity model: how many workers, producers and Redis shards for N hours of video per hour
// at a given sampling rate and working resolution, from measured figures (bench/capacity/inputs.json,
// each with its source in BENCHMARKS.md). Prints a table per worker kind.
//
//   npm run capacity -- [--hours 100] [--fps 2] [--width 640] [--height 360] [--faces 1] [--source 1080p]
//
// Frames per second needed = hours of video per hour × fps (one hour of video per hour is one
// second of video per second). Workers = that / (a worker's frames/s ÷ faces per frame, at 70 %
// headroom); producers from ffmpeg's CPU per second of video at the source's resolution (it decodes
// every frame, whatever the sampling rate: bench:decode-modes — except where samples are 5 s or more
// apart, which it decodes by seeking to each: CPU per sample) plus their CPU per sampled frame
// (copy and write, scaled by pixels from the 224×224 measurement); Redis from the bytes every frame
// moves twice (SET by a producer, GET by a worker) against one node's network and one core,
// whichever binds first.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Inputs {
  machine: string;
  workerFramesPerSecond: Record<string, { value: number; per: string; estimate?: boolean; source: string }>;
  producer: {
    cpuMsPerFrameAt224: number;
    decodeCpuSecondsPerVideoSecond: Record<string, number>;
    /** Samples this far apart or more are decoded by seeking to each (FER_DECODE_SEEK_SECONDS). */
    seekFromIntervalSeconds: number;
    seekCpuSecondsPerSample: Record<string, number>;
  };
  redis: { serverCpuMsPerFrameAt224: number; jobBytesPerFrame: number; resultBytesPerFrame: number };
  assumptions: { redisNicBytesPerSecond: number; headroom: number };
}

export interface CapacityRow {
  readonly worker: string;
  readonly estimate: boolean;
  readonly framesPerSecond: number;
  readonly workers: number;
  readonly producerCores: number;
  readonly redisMBPerSecond: number;
  readonly redisShards: number;
}

export interface Scenario {
  readonly hours: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly faces: number;
  /** The source videos' resolution: a key of inputs.producer.decodeCpuSecondsPerVideoSecond (360p, 720p, 1080p). */
  readonly source: string;
}

export function capacity(inputs: Inputs, scenario: Scenario): CapacityRow[] {
  const { headroom, redisNicBytesPerSecond } = inputs.assumptions;
  const framesPerSecond = scenario.hours * scenario.fps;
  const frameBytes = scenario.width * scenario.height * 3;
  const scale = frameBytes / (224 * 224 * 3);
  const decode = inputs.producer.decodeCpuSecondsPerVideoSecond[scenario.source];
  if (decode === undefined)
    throw new RangeError(
      `no decode figure for ${scenario.source} sources (known: ${Object.keys(inputs.producer.decodeCpuSecondsPerVideoSecond).join(', ')})`,
    );
  // Sparse sampling seeks to each sample instead of decoding every frame: per sample, where measured.
  const perSample = inputs.producer.seekCpuSecondsPerSample[scenario.source];
  const seeks = 1 / scenario.fps >= inputs.producer.seekFromIntervalSeconds && perSample !== undefined;
  const decodePerVideoSecond = seeks ? Math.min(decode, perSample * scenario.fps) : decode;
  // Seconds of video per second = hours of video per hour.
  const producerCores =
    (scenario.hours * decodePerVideoSecond + (framesPerSecond * inputs.producer.cpuMsPerFrameAt224 * scale) / 1000) /
    headroom;
  // Twice over the network (SET, GET); CPU of redis-server grows with the bytes.
  const bytesPerSecond =
    framesPerSecond * (2 * frameBytes + inputs.redis.jobBytesPerFrame + inputs.redis.resultBytesPerFrame);
  const redisCores = (framesPerSecond * inputs.redis.serverCpuMsPerFrameAt224 * scale) / 1000;
  const redisShards = Math.max(
    1,
    Math.ceil(Math.max(bytesPerSecond / (redisNicBytesPerSecond * headroom), redisCores / headroom)),
  );
  return Object.entries(inputs.workerFramesPerSecond).map(([worker, w]) => ({
    worker,
    estimate: w.estimate === true,
    framesPerSecond,
    workers: Math.ceil(framesPerSecond / ((w.value / scenario.faces) * headroom)),
    producerCores: Math.ceil(producerCores * 10) / 10,
    redisMBPerSecond: Math.round(bytesPerSecond / 1e6),
    redisShards,
  }));
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain) {
  const { values } = parseArgs({
    options: {
      hours: { type: 'string', default: '100' },
      fps: { type: 'string', default: '2' },
      width: { type: 'string', default: '640' },
      height: { type: 'string', default: '360' },
      faces: { type: 'string', default: '1' },
      source: { type: 'string', default: '1080p' },
    },
  });
  const scenario = {
    hours: Number(values.hours),
    fps: Number(values.fps),
    width: Number(values.width),
    height: Number(values.height),
    faces: Number(values.faces),
    source: values.source,
  };
  const inputs = JSON.parse(
    readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'capacity', 'inputs.json'), 'utf8'),
  ) as Inputs;
  const rows = capacity(inputs, scenario);
  console.log(
    `${scenario.hours} hours of video per hour at ${scenario.fps} frames/s, ${scenario.width}×${scenario.height} working frames from ${scenario.source} H.264 sources, ${scenario.faces} face(s) per frame: ${rows[0]!.framesPerSecond} frames/s (figures from ${inputs.machine}; 70 % headroom)\n`,
  );
  console.log(
    '| worker kind | frames/s per worker (measured) | workers | producer cores | Redis traffic MB/s | Redis shards |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const w = inputs.workerFramesPerSecond[r.worker]!;
    console.log(
      `| ${r.worker}${r.estimate ? ' — **estimate**' : ''} | ${w.value} | ${r.workers} | ${r.producerCores} | ${r.redisMBPerSecond} | ${r.redisShards} |`,
    );
  }
}
