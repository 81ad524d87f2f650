// bench:feed — what it costs to feed the models, per *sampled* frame, stage by stage, on inputs
// like users': the GRID talking faces of ../shared upscaled and encoded as phones and webcams do
// (H.264 x264 veryfast with B-frames at 360p / 720p / 1080p / 2160p; HEVC and VP9 at 1080p), made
// at run time, sampled at 2 and 25 frames/s to the 640 px working size. Each row stands next to
// ffmpeg's plain full decode of the same file (`-f null`, one thread) measured in the same run.
//
// Stages, each run alone over all the frames so that process CPU (all threads) is its own:
//   decode      the producer's ffmpeg (fps filter, area scale, rgb24), via extractFrameChunks, CPU
//               from GNU time around the real ffmpeg (FFMPEG_PATH points at a timing wrapper)
//   transport   each chunk written to Redis and read back (the producer's and the worker's calls),
//               our process's CPU plus redis-server's own (INFO cpu)
//   det. input  the profile's detector input tensor from each frame (resize + normalise)
//   crops       each found face cut out of its frame (cropRgb at the configured margin)
//   analyze     the analyzer on every frame (reuse off: every face classified) — detector input,
//               detection, crops, classification and the second look together
//   aggregation the frame's colour signature (scene cuts) and the per-video result built from all
//               frames (tracks, persons, timeline, summary)
// "whole" = decode + transport + analyze + aggregation; "× full decode" = whole / full decode.
//
//   FER_SHARED_DIR=../shared npm run bench:feed -- [--seconds 10] [--analyzers cost-free,compact,vit] [--json FILE]

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { frameSignature } from '../src/core/colour-signature.ts';
import type { FaceResult, FrameAnalyzer, FrameResult, RgbImage } from '../src/core/types.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import { faceCropBox, cropRgb } from '../src/inference/detectors/crop.ts';
import { ensureDetectorDir, isBundledDetector } from '../src/inference/detectors/families/index.ts';
import { letterboxMapping, stretchMapping } from '../src/inference/detectors/geometry.ts';
import { writeDetectorInput } from '../src/inference/detectors/preprocess.ts';
import { DETECTOR_SPEC_FILE, parseDetectorSpec } from '../src/inference/detectors/spec.ts';
import { createProfileAnalyzer, vitProfilePaths, type ProfileName } from '../src/inference/profiles.ts';
import { compactExpression } from '../src/models/compact-expression.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';
import { createPipeline, readChunk, writeChunk } from '../src/pipeline/index.ts';
import { extractFrameChunks, probeVideo } from '../src/producer/index.ts';
import { buildVideoResult } from '../src/results/index.ts';
import { CostFreeAnalyzer } from '../src/worker/index.ts';
import { OwnRedis, redisCpuSeconds } from '../test/helpers/own-redis.ts';
import {
  benchModels,
  encodeLikeARecording,
  talkingFaceVideo,
  VP9_LIKE_A_WEBCAM,
  X264_LIKE_A_PHONE,
  X265_LIKE_A_PHONE,
} from './pipeline/setup.ts';

if (!existsSync('/usr/bin/time')) {
  console.error("bench:feed measures ffmpeg's CPU with GNU time: apt-get install time");
  process.exit(1);
}
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    analyzers: { type: 'string', default: 'cost-free,compact,vit' },
    json: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const analyzerNames = values.analyzers!.split(',') as Array<'cost-free' | ProfileName>;
const shared = process.env.FER_SHARED_DIR;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-feed-'));
const realFfmpeg = execFileSync('which', ['ffmpeg'], { encoding: 'utf8' }).trim();

// The producer's ffmpeg, timed: a wrapper that appends its user + system CPU to a file.
const timeFile = path.join(tmp, 'ffmpeg-cpu.txt');
const wrapper = path.join(tmp, 'ffmpeg-timed');
writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/time -a -o "${timeFile}" -f "%U %S" "${realFfmpeg}" "$@"\n`);
chmodSync(wrapper, 0o755);
process.env.FFMPEG_PATH = wrapper;
const cpuOfTimedRuns = (): number => {
  if (!existsSync(timeFile)) return 0;
  const total = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .reduce(
      (sum, line) =>
        sum +
        line
          .split(' ')
          .map(Number)
          .reduce((a, b) => a + b, 0),
      0,
    );
  rmSync(timeFile);
  return total;
};

const { file: talking } = await talkingFaceVideo(shared);
function encode(name: string, height: number, codec: readonly string[]): string {
  return encodeLikeARecording(realFfmpeg, talking, path.join(tmp, name), { seconds, scale: `-2:${height}`, codec });
}
const x264 = X264_LIKE_A_PHONE;
console.error('encoding the inputs …');
const inputs = [
  ...[360, 720, 1080, 2160].map((height) => ({
    name: `H.264 ${height}p`,
    file: encode(`h264-${height}.mp4`, height, x264),
  })),
  {
    name: 'HEVC 1080p',
    file: encode('hevc-1080.mp4', 1080, X265_LIKE_A_PHONE),
  },
  // Webcams and browsers (WebRTC recordings): VP9 in real-time mode.
  {
    name: 'VP9 1080p',
    file: encode('vp9-1080.webm', 1080, [...VP9_LIKE_A_WEBCAM, '-b:v', '4M']),
  },
];

const cpuMs = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

const models = await benchModels(shared);
const redis = await OwnRedis.start({ persistence: false });
const config = loadConfig({
  ...process.env,
  FER_MODELS_DIR: models.modelsDir,
  FER_EXECUTION_PROVIDERS: 'cpu',
  FER_REUSE_MAX_FRAMES: '0',
});
// The vit profile on the int8 ViT-B/16 (the compact profile's nets choose their own variant).
const vitConfig = loadConfig({
  ...process.env,
  FER_MODELS_DIR: models.modelsDir,
  FER_EXECUTION_PROVIDERS: 'cpu',
  FER_REUSE_MAX_FRAMES: '0',
  FER_MODEL_VARIANT: 'model_quantized',
});
const pipeline = createPipeline({ redisUrl: redis.url, prefix: 'bench-feed', config: config.pipeline });
const redisCpuMs = async () => (await redisCpuSeconds(pipeline.redis)) * 1000;

interface Profiled {
  readonly analyzer: FrameAnalyzer;
  /** The detector input to build for each frame, when the analyzer has a detector. */
  readonly detectorInput?: (frame: RgbImage) => Promise<void>;
}
async function openAnalyzer(name: 'cost-free' | ProfileName, cfg: Config): Promise<Profiled> {
  if (name === 'cost-free') return { analyzer: new CostFreeAnalyzer() };
  const analyzer = await createProfileAnalyzer(cfg, name, { prepareFaceApi: ensureFaceApiModels, compactExpression });
  const detectorName = name === 'compact' ? cfg.faces.compactDetector : cfg.faces.detector;
  const dir = isBundledDetector(detectorName)
    ? await ensureDetectorDir(cfg.modelsDir, detectorName)
    : vitProfilePaths(cfg).detectorDir;
  const spec = parseDetectorSpec(readFileSync(path.join(dir, DETECTOR_SPEC_FILE), 'utf8'), dir);
  const tensor = new Float32Array(spec.inputWidth * spec.inputHeight * 3);
  return {
    analyzer,
    detectorInput: async (frame) => {
      const mapping = (spec.resize === 'letterbox' ? letterboxMapping : stretchMapping)(
        frame.width,
        frame.height,
        spec.inputWidth,
        spec.inputHeight,
      );
      await writeDetectorInput(
        frame,
        mapping,
        { channelOrder: spec.channelOrder, mean: spec.mean, std: spec.std, layout: spec.layout },
        tensor,
        0,
      );
    },
  };
}
const analyzers = new Map<string, Profiled>();
for (const name of analyzerNames) analyzers.set(name, await openAnalyzer(name, name === 'vit' ? vitConfig : config));

const rows: Array<Record<string, unknown>> = [];
const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);
for (const input of inputs) {
  const probe = await probeVideo(input.file, config.pipeline);
  // ffmpeg's plain full decode of the same file, one thread as the producer runs it.
  execFileSync(wrapper, ['-v', 'error', '-nostdin', '-threads', '1', '-i', input.file, '-f', 'null', '-']);
  const fullDecodeMs = cpuOfTimedRuns() * 1000;
  for (const fps of [2, 25]) {
    const frames: RgbImage[] = [];
    const chunks: Buffer[] = [];
    cpuOfTimedRuns();
    for await (const chunk of extractFrameChunks(input.file, probe, {
      fps,
      maxSide: 640,
      decodeThreads: 1,
      framesPerChunk: 32,
      buffers: 0,
    })) {
      chunks.push(chunk.data);
      const frameBytes = chunk.width * chunk.height * 3;
      for (let i = 0; i < chunk.frames; i++)
        frames.push({
          width: chunk.width,
          height: chunk.height,
          data: chunk.data.subarray(i * frameBytes, (i + 1) * frameBytes),
        });
    }
    const decodeMs = cpuOfTimedRuns() * 1000;
    const n = frames.length;

    const redisBefore = await redisCpuMs();
    let start = process.cpuUsage();
    for (const [i, data] of chunks.entries()) {
      const key = pipeline.keys.chunk('feed', i);
      await writeChunk(pipeline, key, data);
      await readChunk(pipeline, key);
      await pipeline.redis.del(key);
    }
    const transportMs = cpuMs(start) + ((await redisCpuMs()) - redisBefore);

    for (const [name, { analyzer, detectorInput }] of analyzers) {
      start = process.cpuUsage();
      const results: FrameResult[] = [];
      for (const [index, frame] of frames.entries())
        results.push({ index, timestamp: index / fps, faces: [...(await analyzer.analyze(frame)).faces] });
      const analyzeMs = cpuMs(start);
      start = process.cpuUsage();
      if (detectorInput) for (const frame of frames) await detectorInput(frame);
      const detectorInputMs = cpuMs(start);
      start = process.cpuUsage();
      let faces = 0;
      for (const [index, frame] of frames.entries()) {
        for (const face of results[index]!.faces as FaceResult[]) {
          cropRgb(frame, faceCropBox(face.box, frame.width, frame.height, config.faces.cropMargin));
          faces += 1;
        }
      }
      const cropsMs = cpuMs(start);
      start = process.cpuUsage();
      const withSignatures = results.map((result, i) => ({ ...result, signature: frameSignature(frames[i]!) }));
      buildVideoResult({
        videoId: 'feed',
        frames: withSignatures,
        video: { name: input.name },
        model: analyzer.info,
        processing: { fps },
        timings: { submittedAt: new Date().toISOString(), completedAt: new Date().toISOString(), processingMs: null },
        aggregation: { frameInterval: 1 / fps },
      });
      const aggregationMs = cpuMs(start);
      const whole = decodeMs + transportMs + analyzeMs + aggregationMs;
      const row = {
        input: input.name,
        fps,
        analyzer: name,
        sampledFrames: n,
        faces,
        msPerSampledFrame: {
          fullDecode: fullDecodeMs / n,
          decode: decodeMs / n,
          transport: transportMs / n,
          detectorInput: detectorInputMs / n,
          crops: cropsMs / n,
          analyze: analyzeMs / n,
          aggregation: aggregationMs / n,
          whole: whole / n,
        },
        wholeOverFullDecode: whole / fullDecodeMs,
      };
      rows.push(row);
      const m = row.msPerSampledFrame;
      console.error(
        `${input.name} ${fps}/s ${name}: decode ${fmt(m.decode)} transport ${fmt(m.transport)} analyze ${fmt(m.analyze)} aggregation ${fmt(m.aggregation)} ms/frame; whole ${row.wholeOverFullDecode.toFixed(2)}× full decode`,
      );
    }
  }
}
await Promise.all([...analyzers.values()].map(({ analyzer }) => analyzer.close()));
await pipeline.close();
await redis.stop();

console.log(
  `\n| input | fps | analyzer | frames | full decode | decode | transport | det. input | crops | analyze (all model work) | aggregation | whole | whole / full decode |`,
);
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const m = r.msPerSampledFrame as Record<string, number>;
  console.log(
    `| ${r.input} | ${r.fps} | ${r.analyzer} | ${r.sampledFrames} | ${fmt(m.fullDecode!)} | ${fmt(m.decode!)} | ${fmt(m.transport!)} | ${fmt(m.detectorInput!)} | ${fmt(m.crops!)} | ${fmt(m.analyze!)} | ${fmt(m.aggregation!)} | ${fmt(m.whole!)} | ${(r.wholeOverFullDecode as number).toFixed(2)} |`,
  );
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      { date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length, seconds, rows },
      null,
      2,
    ),
  );
rmSync(tmp, { recursive: true, force: true });
