// What face detection adds to the per-frame time, at the default settings, with the ViT-B/16
// classifier: the same frames go through (a) whole-frame classification (no detector) and
// (b) detect-then-classify with the configured default detector, in the same run, alternating
// rounds so machine noise hits both alike. The frames hold one face each (a GRID video), so both
// sides classify the same number of images; the difference is the detector (plus cropping).
//
//   node --import tsx bench/faces.ts [--frames N] [--rounds R] [--preset base|tiny] [--detector NAME]
//
// Needs ../shared (GRID video, detector models). The ViT is synthetic (weights do not change the
// amount of work), built once into the temp directory like bench/inference.ts.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import type { RgbImage } from '../src/core/types.ts';
import { DetectThenClassifyAnalyzer } from '../src/inference/analyzers/detect-then-classify.ts';
import { createImageClassifier } from '../src/inference/classifier.ts';
import { loadDetector } from '../src/inference/detectors/detector.ts';
import { installLocal } from '../src/inference/fetch/fetch.ts';
import { buildSyntheticVitModelDir, type VitPreset } from '../src/inference/vit/index.ts';
import { extractFrames, probeVideo } from '../src/producer/index.ts';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '2' },
    preset: { type: 'string', default: 'base' },
    detector: { type: 'string' },
    shared: { type: 'string', default: process.env.FER_SHARED_DIR ?? path.resolve('../shared') },
  },
});
const frameCount = Number(values.frames);
const rounds = Number(values.rounds);
const preset = values.preset as VitPreset;
const config = loadConfig();
const detectorName = values.detector ?? config.faces.detector;

async function vitDir(): Promise<string> {
  const dir = path.join(os.tmpdir(), preset === 'base' ? 'fer-stream-bench-vit-base' : `fer-stream-bench-vit-${preset}`);
  if (!existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
    console.error(`building synthetic ViT (${preset}) into ${dir} …`);
    await buildSyntheticVitModelDir({ outDir: dir, preset, seed: 1 });
  }
  return dir;
}

async function loadFrames(): Promise<RgbImage[]> {
  const file = path.join(values.shared, 'fixtures', 'video', 'grid_bbaf2n.mpg');
  const probe = await probeVideo(file, { maxDurationSeconds: 600, maxFileBytes: 1e9, maxSourcePixels: 1e8 });
  const frames: RgbImage[] = [];
  // Sample densely enough to get `frameCount` distinct frames out of the 3 s video.
  for await (const f of extractFrames(file, probe, { fps: Math.max(1, frameCount / 2.9), maxSide: config.pipeline.frameMaxSide, maxFrames: frameCount })) {
    frames.push({ data: new Uint8Array(f.data), width: f.width, height: f.height });
  }
  return frames;
}

/** All frames submitted at once (as a worker with frames in flight does); ms per frame. */
async function perFrameMs(analyse: (frame: RgbImage) => Promise<unknown>, frames: readonly RgbImage[]): Promise<number> {
  const start = performance.now();
  await Promise.all(frames.map((f) => analyse(f)));
  return (performance.now() - start) / frames.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-faces-'));
try {
  await installLocal(path.join(values.shared, 'models'), modelsDir);
  const frames = await loadFrames();
  const classifier = await createImageClassifier(await vitDir(), { config: config.inference });
  const size = config.faces.detectorInputSize?.split('x').map(Number);
  const detector = await loadDetector(path.join(modelsDir, detectorName), {
    inference: config.inference,
    settings: {
      scoreThreshold: config.faces.scoreThreshold,
      nmsIou: config.faces.nmsIou,
      minFaceSize: config.faces.minFaceSize,
      maxFaces: config.faces.maxFacesPerFrame,
      ...(size ? { inputWidth: size[0], inputHeight: size[1] } : {}),
    },
  });
  const analyzer = new DetectThenClassifyAnalyzer({ detector, classifier, cropMargin: config.faces.cropMargin });
  const wholeFrame = (f: RgbImage) => classifier.classify(f);
  const withFaces = async (f: RgbImage) => {
    const { faces } = await analyzer.analyze(f);
    if (faces.length !== 1) throw new Error(`expected one face per GRID frame, got ${faces.length}`);
  };
  console.error(
    `${frames.length} frames ${frames[0]!.width}x${frames[0]!.height}; ViT ${preset} (${config.inference.modelVariant}); detector ${detectorName}; ` +
      `max batch ${config.inference.maxBatchSize}, intra-op threads ${config.inference.intraOpThreads || 'auto'}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  // Warm-up of both paths (first runs allocate and plan).
  await perFrameMs(wholeFrame, frames.slice(0, 4));
  await perFrameMs(withFaces, frames.slice(0, 4));
  const without: number[] = [];
  const withDetector: number[] = [];
  for (let r = 0; r < rounds; r++) {
    without.push(await perFrameMs(wholeFrame, frames));
    withDetector.push(await perFrameMs(withFaces, frames));
    console.error(`round ${r + 1}: without detector ${without.at(-1)!.toFixed(1)} ms/frame, with ${withDetector.at(-1)!.toFixed(1)} ms/frame`);
  }
  const a = median(without);
  const b = median(withDetector);
  console.log(`| ViT ${preset}, whole frame (no detector) | ${a.toFixed(1)} ms/frame | 1.00 |`);
  console.log(`| ViT ${preset}, ${detectorName} + crop + classify | ${b.toFixed(1)} ms/frame | ${(b / a).toFixed(2)} (+${(100 * (b / a - 1)).toFixed(1)} %) |`);
  await detector.close();
  await classifier.close();
} finally {
  await rm(modelsDir, { recursive: true, force: true });
}
