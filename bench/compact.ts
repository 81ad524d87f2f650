// Throughput of the compact profile as a worker runs it — as it was before persons, second looks and
// the expression ensemble, and as it is by default, in the same run: frames in, faces with
// expressions out, frames analysed concurrently so the detector and classifier batchers can batch.
// Baseline in the same run: face-api itself on the same frames (tfjs, pure-JS CPU backend — what
// `npm install @vladmandic/face-api` gives without native tfjs-node), one frame at a time as its API
// works.
//
//   npm run bench:compact [-- --seconds S] [--concurrency 1,4,16] [--baseline-frames N]
//
// Frames: the demo video (face-api's sample photos, panned) sampled at 5 fps and scaled to the
// pipeline's default working resolution (long side 640), decoded once up front.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { makeDemoVideo } from '../src/cli/demo/make-video.ts';
import { loadConfig } from '../src/config/index.ts';
import type { RgbImage } from '../src/core/types.ts';
import { createProfileAnalyzer } from '../src/inference/profiles.ts';
import { mediaBinaries } from '../src/producer/index.ts';
import { loadFaceApi } from '../test/models/faceapi/face-api-reference.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';
import { compactExpression } from '../src/models/compact-expression.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1,4,16' },
    'baseline-frames': { type: 'string', default: '3' },
    'long-side': { type: 'string', default: '640' },
  },
});
const seconds = Number(values.seconds);
const levels = values.concurrency.split(',').map(Number);
const longSide = Number(values['long-side']);

async function decodeFrames(video: string, width: number, height: number): Promise<RgbImage[]> {
  const args = [
    '-v',
    'error',
    '-i',
    video,
    '-vf',
    `fps=5,scale=${width}:${height}`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(mediaBinaries().ffmpeg, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}`))));
  });
  const all = Buffer.concat(chunks);
  const size = width * height * 3;
  return Array.from({ length: Math.floor(all.length / size) }, (_, i) => ({
    data: new Uint8Array(all.subarray(i * size, (i + 1) * size)),
    width,
    height,
  }));
}

const work = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-compact-'));
try {
  const { file } = await makeDemoVideo({ out: path.join(work, 'demo.mp4') });
  const width = longSide;
  const height = Math.round((longSide * 720) / 960 / 2) * 2;
  const frames = await decodeFrames(file, width, height);
  const config = loadConfig({}, { modelsDir: path.join(work, 'models'), inference: { executionProviders: ['cpu'] } });
  console.log(
    `compact profile: ${frames.length} frames ${width}x${height}, ${os.availableParallelism()} cores, inference maxBatchSize ${config.inference.maxBatchSize}, sessionThreads ${config.inference.sessionThreads}, intraOpThreads ${config.inference.intraOpThreads}`,
  );

  // Baseline: face-api on tfjs (CPU backend), detection + expressions, one frame at a time.
  const faceapi = await loadFaceApi();
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
  const baselineCount = Math.min(Number(values['baseline-frames']), frames.length);
  let baselineFaces = 0;
  const t0 = performance.now();
  for (const frame of frames.slice(0, baselineCount)) {
    const tensor = faceapi.tf.tensor3d(frame.data, [frame.height, frame.width, 3], 'int32');
    const found = await faceapi.detectAllFaces(tensor, options).withFaceExpressions();
    baselineFaces += found.length;
    tensor.dispose();
  }
  const baselineFps = baselineCount / ((performance.now() - t0) / 1000);
  console.log(
    `baseline face-api 1.7.15 on tfjs-cpu: ${baselineFps.toFixed(2)} frames/s (${baselineCount} frames, ${(baselineFaces / baselineCount).toFixed(1)} faces/frame)`,
  );

  // Two set-ups in the same run: the compact profile as it was before persons, second looks and the
  // ensemble (face-api's net alone, BlazeFace at 0.6), and today's default (what the CLI runs).
  const setups = [
    {
      name: 'before (BlazeFace 0.6, face-api net)',
      config: loadConfig(
        { FER_PERSONS: 'false', FER_DETECTOR_SECOND_LOOK: 'none', FER_DETECTOR_SCORE_THRESHOLD: '0.6' },
        { modelsDir: config.modelsDir, inference: { executionProviders: ['cpu'] } },
      ),
      options: { prepareFaceApi: ensureFaceApiModels },
    },
    {
      name: 'default without persons (FER_PERSONS=false)',
      config: loadConfig(
        { FER_PERSONS: 'false' },
        { modelsDir: config.modelsDir, inference: { executionProviders: ['cpu'] } },
      ),
      options: { prepareFaceApi: ensureFaceApiModels, compactExpression: (c: typeof config) => compactExpression(c) },
    },
    {
      name: 'default (second look, ensemble + flip, persons)',
      config,
      options: { prepareFaceApi: ensureFaceApiModels, compactExpression: (c: typeof config) => compactExpression(c) },
    },
  ];
  const rows: string[] = [];
  for (const setup of setups) {
    const analyzer = await createProfileAnalyzer(setup.config, 'compact', setup.options);
    try {
      await Promise.all(frames.slice(0, 4).map((f) => analyzer.analyze(f))); // warm-up
      for (const concurrency of levels) {
        let done = 0;
        let faces = 0;
        let next = 0;
        const deadline = performance.now() + seconds * 1000;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (performance.now() < deadline) {
              const frame = frames[next++ % frames.length]!;
              // (Read the result first: `faces += await …` would read `faces` before the await and lose updates.)
              const found = (await analyzer.analyze(frame)).faces.length;
              faces += found;
              done++;
            }
          }),
        );
        const fps = done / ((performance.now() - start) / 1000);
        rows.push(
          `| ${setup.name} | ${concurrency} | ${fps.toFixed(1)} | ${(faces / done).toFixed(1)} | ${(fps / baselineFps).toFixed(1)}× |`,
        );
        console.log(
          `${setup.name}, ${concurrency} frame(s) in flight: ${fps.toFixed(1)} frames/s (${done} frames, ${(faces / done).toFixed(1)} faces/frame), ${(fps / baselineFps).toFixed(1)}× face-api on tfjs-cpu`,
        );
      }
    } finally {
      await analyzer.close();
    }
  }
  console.log(
    [
      '',
      '| set-up | frames in flight | frames/s | faces/frame | vs face-api tfjs-cpu |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
