// bench:decode-modes — what skipping the decoder's in-loop filters (`-skip_loop_filter all`: a way
// to decode only what sampling needs that keeps every frame's true time) saves, and whether it
// changes answers; kept as a setting only if it agrees with full decoding. Inputs made at run time from the
// GRID talking faces of ../shared (the 60 s clip of bench:pipeline), upscaled and encoded as phones
// do: H.264 (x264 veryfast, B-frames) at 720p and 1080p, HEVC (x265) at 1080p, plus the fixture's
// own 360×288 H.264. Per input, sampled at 2 frames/s: ffmpeg's CPU for the sampling decode in each
// mode next to its plain full decode (`-f null`), all in the same run; then the compact profile on
// both modes' frames: top-1 expression agreement and box IoU per face (the bar: ≥ 99.5 % and ≥ 0.95).
// Then sparse sampling by seeking from keyframe to each sample (decode-seek.ts, the producer's own
// code) at 0.5, 0.2 and 0.1 frames/s, on 1080p H.264 with x264's default keyframe interval, with one
// keyframe a second, and at 29.97 fps (sample times between frames). Then decoder threads per codec
// (decode-threads.ts): 1, 2 and ffmpeg's own choice on 1080p H.264, HEVC and VP9.
//
//   npm run bench:decode-modes -- [--seconds S] [--json FILE] [--only filter|seek|threads]

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import type { FaceResult } from '../src/core/types.ts';
import { createProfileAnalyzer } from '../src/inference/profiles.ts';
import { compactExpression } from '../src/models/compact-expression.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';
import {
  extractFrames,
  mediaBinaries,
  probeVideo,
  type SamplingOptions,
  type VideoProbe,
} from '../src/producer/index.ts';
import { agreement } from './decode-agreement.ts';
import {
  encodeLikeARecording,
  talkingFaceVideo,
  VP9_LIKE_A_WEBCAM,
  X264_LIKE_A_PHONE,
  X265_LIKE_A_PHONE,
} from './pipeline/setup.ts';
import { compareSeeking, type SeekRow } from './decode-seek.ts';
import { timeSamplingDecode, type ThreadsRow } from './decode-threads.ts';

if (!existsSync('/usr/bin/time')) {
  console.error("bench:decode-modes measures ffmpeg's CPU with GNU time: apt-get install time");
  process.exit(1);
}
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '30' }, json: { type: 'string' }, only: { type: 'string' } },
});
const seconds = Number(values.seconds);
const shared = path.resolve(process.env.FER_SHARED_DIR ?? '../shared');
const ffmpeg = mediaBinaries().ffmpeg;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-decode-'));
const { file: talking } = await talkingFaceVideo(shared);

const encoded = new Map<string, string>();
/** The clip encoded as `name` (once per run: several measurements share the same inputs). */
function encode(name: string, scale: string, codec: readonly string[]): string {
  if (!encoded.has(name))
    encoded.set(name, encodeLikeARecording(ffmpeg, talking, path.join(tmp, name), { seconds, scale, codec }));
  return encoded.get(name)!;
}
const x264 = X264_LIKE_A_PHONE;

/** User + system CPU seconds of one ffmpeg run (GNU time's %U %S). */
function cpuSeconds(args: string[]): number {
  const run = spawnSync('/usr/bin/time', ['-f', '%U %S', ffmpeg, '-v', 'error', '-nostdin', '-threads', '1', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const [user, system] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return user! + system!;
}

/** The decoder's shortcuts measured against the exact sampling decode (SamplingOptions.decoderSkip). */
const DECODER_SKIPS = [
  { name: 'skip loop filter', skip: 'loop-filter', flags: ['-skip_loop_filter', 'all'] },
  { name: 'skip non-reference frames', skip: 'non-reference', flags: ['-skip_frame', 'noref'] },
] as const;

const rows: Array<Record<string, unknown>> = [];
if (values.only === undefined || values.only === 'filter') await compareFilterModes();

async function compareFilterModes(): Promise<void> {
  const inputs = [
    { name: 'H.264 360×288 (GRID re-encode)', file: path.join(shared, 'fixtures', 'video', 'grid_bbaf2n.mp4') },
    { name: 'H.264 720p', file: encode('720p.mp4', '1280:720', x264) },
    { name: 'H.264 1080p', file: encode('1080p.mp4', '1920:1080', x264) },
    {
      name: 'HEVC 1080p',
      file: encode('1080p-hevc.mp4', '1920:1080', X265_LIKE_A_PHONE),
    },
  ];
  const config = loadConfig({
    ...process.env,
    FER_MODELS_DIR: path.join(tmp, 'models'),
    FER_EXECUTION_PROVIDERS: 'cpu',
  });
  const analyzer = await createProfileAnalyzer(config, 'compact', {
    prepareFaceApi: ensureFaceApiModels,
    compactExpression,
  });
  for (const input of inputs) {
    const probe = await probeVideo(input.file, config.pipeline);
    const sampling = [
      '-vf',
      'fps=2:round=up:start_time=0,scale=640:-2:flags=area',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      '-',
    ];
    const fullDecode = cpuSeconds(['-i', input.file, '-f', 'null', '-']);
    const exactCpu = cpuSeconds(['-i', input.file, ...sampling]);
    const exact = await analyseFrames(input.file, probe, undefined);
    for (const mode of DECODER_SKIPS) {
      const cpu = cpuSeconds([...mode.flags, '-i', input.file, ...sampling]);
      const fast = await analyseFrames(input.file, probe, mode.skip);
      const row = {
        input: input.name,
        mode: mode.name,
        ...agreement(exact, fast),
        cpu: { fullDecode, exact: exactCpu, fast: cpu },
        fastOverExact: cpu / exactCpu,
        exactOverFullDecode: exactCpu / fullDecode,
        fastOverFullDecode: cpu / fullDecode,
      };
      rows.push(row);
      console.error(JSON.stringify(row));
    }
  }

  /** The compact profile's faces on every sampled frame, with the frames' times and pixels. */
  async function analyseFrames(file: string, probe: VideoProbe, skip: SamplingOptions['decoderSkip']) {
    const out = { faces: [] as FaceResult[][], timestamps: [] as number[], frames: [] as Buffer[] };
    for await (const frame of extractFrames(file, probe, {
      fps: 2,
      maxSide: 640,
      decoderSkip: skip,
      decodeThreads: 1,
    })) {
      out.faces.push([...(await analyzer.analyze(frame)).faces]);
      out.timestamps.push(frame.timestamp);
      out.frames.push(Buffer.from(frame.data));
    }
    return out;
  }
  await analyzer.close();
}

// Sparse sampling: one keyframe every 10 s (x264's default, 250 frames) and every 1 s (phones').
const seekRows: Array<SeekRow & { input: string }> = [];
if (values.only === undefined || values.only === 'seek') {
  const seekInputs = [
    { name: 'H.264 1080p 25 fps, keyframe every 10 s', file: encode('1080p-gop250.mp4', '1920:1080', x264), gop: 10 },
    {
      name: 'H.264 1080p 25 fps, keyframe every 1 s',
      file: encode('1080p-gop25.mp4', '1920:1080', [...x264, '-g', '25', '-keyint_min', '25']),
      gop: 1,
    },
    {
      // Sample times fall between keyframes: each seek decodes part of a group of pictures.
      name: 'H.264 1080p 29.97 fps, keyframe every 1 s',
      file: encode('1080p-2997-gop30.mp4', '1920:1080', [...x264, '-r', '30000/1001', '-g', '30', '-keyint_min', '30']),
      gop: 1,
    },
  ];
  for (const input of seekInputs) {
    for (const fps of [0.5, 0.2, 0.1]) {
      const row = await compareSeeking(ffmpeg, input.file, { fps, keyframeInterval: input.gop });
      seekRows.push({ ...row, input: input.name });
      console.error(JSON.stringify({ input: input.name, ...row }));
    }
  }
}

// Decoder threads per codec: 1080p H.264, HEVC and VP9 as phones and webcams record them, 2 frames/s.
const threadRows: Array<ThreadsRow & { input: string }> = [];
if (values.only === undefined || values.only === 'threads') {
  const inputs = [
    { name: 'H.264 1080p', file: encode('1080p.mp4', '1920:1080', x264) },
    {
      name: 'HEVC 1080p',
      file: encode('1080p-hevc.mp4', '1920:1080', X265_LIKE_A_PHONE),
    },
    {
      name: 'VP9 1080p',
      file: encode('1080p-vp9.webm', '1920:1080', VP9_LIKE_A_WEBCAM),
    },
  ];
  for (const input of inputs) {
    for (const threads of [1, 2, 0]) {
      const row = { ...timeSamplingDecode(ffmpeg, input.file, 2, threads), input: input.name };
      threadRows.push(row);
      console.error(JSON.stringify(row));
    }
  }
}

await rm(tmp, { recursive: true, force: true });

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
if (rows.length > 0) {
  console.log(
    `bench:decode-modes — ${seconds} s of the talking-face clip per input, sampled at 2 frames/s to 640 px; ffmpeg with one thread; CPU s (user + system)`,
  );
  console.log(
    '| input | decoder shortcut | frames | full decode (`-f null`) CPU s | exact sampling CPU s | with the shortcut CPU s | / exact | / full decode | frames identical to exact | faces compared | faces in one mode only | top-1 agreement | least box IoU | same timestamps |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows as Array<{
    input: string;
    mode: string;
    frames: number;
    cpu: { fullDecode: number; exact: number; fast: number };
    fastOverExact: number;
    fastOverFullDecode: number;
    identicalFrames: number;
    faces: number;
    facesOnlyInOne: number;
    top1Agreement: number;
    minIou: number;
    sameTimestamps: boolean;
  }>) {
    console.log(
      `| ${r.input} | ${r.mode} | ${r.frames} | ${r.cpu.fullDecode.toFixed(2)} | ${r.cpu.exact.toFixed(2)} | ${r.cpu.fast.toFixed(2)} | ${r.fastOverExact.toFixed(2)} | ${r.fastOverFullDecode.toFixed(2)} | ${r.identicalFrames} / ${r.frames} | ${r.faces} | ${r.facesOnlyInOne} | ${pct(r.top1Agreement)} | ${r.minIou.toFixed(3)} | ${r.sameTimestamps ? 'yes' : 'no'} |`,
    );
  }
}
if (seekRows.length > 0) {
  console.log(
    `\nsparse sampling by seeking, the producer's code — ${seconds} s per input, 640 px RGB; ffmpeg with one thread; CPU s (user + system)`,
  );
  console.log(
    '| input | frames/s | samples | plain full decode CPU s | sampling, every frame decoded: ffmpeg / Node CPU s | sampling by seeking: ffprobe + ffmpeg / Node CPU s | seeking / every frame (ffmpeg) | seeking / plain full decode | byte-identical samples |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of seekRows)
    console.log(
      `| ${r.input} | ${r.fps} | ${r.frames} | ${r.plainDecodeCpu.toFixed(2)} | ${r.fullCpu.toFixed(2)} / ${r.fullNodeCpu.toFixed(2)} | ${r.seekCpu.toFixed(2)} / ${r.seekNodeCpu.toFixed(2)} | ${(r.seekCpu / r.fullCpu).toFixed(2)} | ${(r.seekCpu / r.plainDecodeCpu).toFixed(2)} | ${r.identical} / ${r.frames} |`,
    );
}
if (threadRows.length > 0) {
  console.log(`\ndecoder threads per codec — the producer's sampling decode at 2 frames/s, ${seconds} s per input`);
  console.log('| input | FER_DECODE_THREADS | wall s | CPU s (user + system) | CPU / one thread | wall / one thread |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of threadRows) {
    const one = threadRows.find((o) => o.input === r.input && o.threads === 1)!;
    console.log(
      `| ${r.input} | ${r.threads === 0 ? '0 (ffmpeg decides)' : r.threads} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${(r.cpuSeconds / one.cpuSeconds).toFixed(2)} | ${(r.wallSeconds / one.wallSeconds).toFixed(2)} |`,
    );
  }
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify({ date: new Date().toISOString(), seconds, rows, seekRows, threadRows }, null, 2),
  );
