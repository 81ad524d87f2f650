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
import { installLocal } from '../src/models/fetch/fetch.ts';
import { buildSyntheticVitModelDir, type VitPreset } from '../src/models/vit/index.ts';
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
  const dir = path.join(
    os.tmpdir(),
    preset === 'base' ? 'fer-stream-bench-vit-base' : `fer-stream-bench-vit-${preset}`,
  );
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
  for await (const f of extractFrames(file, probe, {
    fps: Math.max(1, frameCount / 2.9),
    maxSide: config.pipeline.frameMaxSide,
    maxFrames: frameCount,
  })) {
    frames.push({ data: new Uint8Array(f.data), width: f.width, height: f.height });
  }
  return frames;
}

interface Cost {
  /** Wall-clock ms per frame. */
  readonly wallMs: number;
  /** CPU ms per frame of this whole process (every thread: main, session threads, sharp, preprocessing). */
  readonly cpuMs: number;
}

/**
 * All frames submitted at once (as a worker with frames in flight does). CPU time is reported next
 * to wall time because this machine is shared: other processes stretch wall time at random, while
 * the CPU time our process spends per frame is what the detector really adds.
 */
async function perFrame(analyse: (frame: RgbImage) => Promise<unknown>, frames: readonly RgbImage[]): Promise<Cost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(frames.map((f) => analyse(f)));
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs: wall / frames.length, cpuMs: (used.user + used.system) / 1000 / frames.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]) => Math.min(...xs);

const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-faces-'));
try {
  await installLocal(path.join(values.shared, 'models'), modelsDir);
  const frames = await loadFrames();
  const classifier = await createImageClassifier(await vitDir(), { config: config.inference });
  const size =
    config.faces.detectorInputSize === 'frame' ? undefined : config.faces.detectorInputSize.split('x').map(Number);
  const detector = await loadDetector(path.join(modelsDir, detectorName), {
    inference: config.inference,
    settings: {
      scoreThreshold: config.faces.scoreThreshold,
      nmsIou: config.faces.nmsIou,
      minFaceSize: config.faces.minFaceSize,
      maxFaces: config.faces.maxFacesPerFrame,
      ...(size ? { inputWidth: size[0], inputHeight: size[1] } : { frameSizedInput: true }),
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
      `max batch ${config.inference.maxBatchSize}, intra-op threads ${config.inference.intraOpThreads}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  // Warm-up of both paths (first runs allocate and plan).
  await perFrame(wholeFrame, frames.slice(0, 4));
  await perFrame(withFaces, frames.slice(0, 4));
  const detectOnly = (f: RgbImage) => detector.detect(f);
  await perFrame(detectOnly, frames.slice(0, 4));
  const without: Cost[] = [];
  const withDetector: Cost[] = [];
  const detection: Cost[] = [];
  for (let r = 0; r < rounds; r++) {
    without.push(await perFrame(wholeFrame, frames));
    withDetector.push(await perFrame(withFaces, frames));
    detection.push(await perFrame(detectOnly, frames));
    const [a, b] = [without.at(-1)!, withDetector.at(-1)!];
    console.error(
      `round ${r + 1}: without detector ${a.wallMs.toFixed(1)} ms/frame wall, ${a.cpuMs.toFixed(1)} ms CPU; with ${b.wallMs.toFixed(1)} ms wall, ${b.cpuMs.toFixed(1)} ms CPU; ` +
        `detection alone ${detection.at(-1)!.wallMs.toFixed(1)} ms wall, ${detection.at(-1)!.cpuMs.toFixed(1)} ms CPU; load ${os.loadavg()[0]!.toFixed(2)}`,
    );
  }
  const row = (label: string, cpu: number, cpuBase: number, wall: number, wallBase: number) =>
    `| ${label} | ${cpu.toFixed(1)} | ${(cpu / cpuBase).toFixed(3)} | ${wall.toFixed(1)} | ${(wall / wallBase).toFixed(3)} |`;
  const cpuA = median(without.map((c) => c.cpuMs));
  const cpuB = median(withDetector.map((c) => c.cpuMs));
  const wallA = min(without.map((c) => c.wallMs));
  const wallB = min(withDetector.map((c) => c.wallMs));
  console.log('| per frame | CPU ms (median of rounds) | ratio | wall ms (best round) | ratio |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(row(`ViT ${preset}, whole frame (no detector)`, cpuA, cpuA, wallA, wallA));
  console.log(row(`ViT ${preset}, ${detectorName} + crop + classify`, cpuB, cpuA, wallB, wallA));
  const cpuD = median(detection.map((c) => c.cpuMs));
  const wallD = min(detection.map((c) => c.wallMs));
  console.log(row(`${detectorName} alone (detection only)`, cpuD, cpuA, wallD, wallA));
  console.log(
    `per-round ratios (with/without): CPU ${without.map((a, i) => (withDetector[i]!.cpuMs / a.cpuMs).toFixed(3)).join(' ')}; wall ${without.map((a, i) => (withDetector[i]!.wallMs / a.wallMs).toFixed(3)).join(' ')}`,
  );
  await detector.close();
  await classifier.close();
} finally {
  await rm(modelsDir, { recursive: true, force: true });
}
