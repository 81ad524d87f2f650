// What bench:pipeline (and bench:baseline, bench:scaling) run on: the synthetic ViT-B/16 with its
// dynamic int8 twin, YuNet beside it in a models directory of the bench's own, and a 60 s
// talking-face video (the GRID clips of ../shared concatenated; without them, a pan over the demo
// photos). Built once into the temp directory; weights do not change the amount of work.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDemoVideo } from '../../src/cli/demo/make-video.ts';
import { loadConfig } from '../../src/config/index.ts';
import { faceApiSamplePhotos } from '../../src/models/faceapi/sample-photos.ts';
import { QUANTIZATION_FILE, type QuantizationRecord } from '../../src/inference/model-variant.ts';
import { DEFAULT_WEIGHT_BITS } from '../../src/models/onnx/quantize.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import { quantizeModelDir } from '../../src/models/quantize-dir.ts';
import { mediaBinaries } from '../../src/producer/binaries.ts';

export const BENCH_DIR = path.join(os.tmpdir(), 'fer-stream-bench-pipeline');
export const REPO = path.resolve(import.meta.dirname, '..', '..');

export interface BenchModels {
  /** FER_MODELS_DIR for the CLI: vit-fer (the synthetic ViT-B/16, fp32 + int8) and yunet-2023mar. */
  readonly modelsDir: string;
  readonly vitDir: string;
  /** Whether YuNet could be installed (from ../shared/models); without it the detection rows are skipped. */
  readonly detector: boolean;
}

export async function benchModels(sharedDir: string | undefined): Promise<BenchModels> {
  const modelsDir = path.join(BENCH_DIR, 'models');
  const vitDir = path.join(modelsDir, 'vit-fer');
  if (!existsSync(path.join(vitDir, 'onnx', 'model_quantized.onnx'))) {
    console.error(`building the synthetic ViT-B/16 (fp32 + dynamic int8) into ${vitDir} …`);
    await buildSyntheticVitModelDir({ outDir: vitDir, preset: 'base', seed: 1, quantize: 'int8-per-channel' });
  }
  // The measured agreement FER_MODEL_VARIANT=auto reads (what `fer-stream models quantize` writes);
  // a directory quantised before the weights became 7-bit is quantised again.
  const recordFile = path.join(vitDir, QUANTIZATION_FILE);
  const recorded = existsSync(recordFile)
    ? (JSON.parse(readFileSync(recordFile, 'utf8')) as QuantizationRecord)
    : undefined;
  if (recorded?.weightBits !== DEFAULT_WEIGHT_BITS) {
    const config = loadConfig({}, { modelsDir });
    const record = await quantizeModelDir({
      inDir: vitDir,
      photos: faceApiSamplePhotos(),
      modelsDir,
      inference: config.inference,
      cropMargin: config.faces.cropMargin,
    });
    console.error(
      `measured int8 against fp32: ${(record.agreement.top1 * 100).toFixed(1)} % top-1 agreement on ${record.agreement.crops} face crops`,
    );
  }
  let detector = existsSync(path.join(modelsDir, 'yunet-s-dynamic'));
  if (!detector && sharedDir && existsSync(path.join(sharedDir, 'models', 'yunet'))) {
    const run = spawnSync(
      process.execPath,
      [
        path.join(REPO, 'bin', 'fer-stream.js'),
        'models',
        'install-local',
        path.join(sharedDir, 'models'),
        'yunet',
        '--models-dir',
        modelsDir,
      ],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`installing YuNet: ${run.stderr}`);
    detector = true;
  }
  return { modelsDir, vitDir, detector };
}

/** A 60 s talking-face video (GRID clips concatenated, or the demo photos panned) and its name. */
export async function talkingFaceVideo(
  sharedDir: string | undefined,
  seconds = 60,
): Promise<{ file: string; source: string }> {
  const file = path.join(BENCH_DIR, `talking-${seconds}s.mp4`);
  // Absolute: the concat list is read relative to its own directory, not to ours.
  const gridDir = sharedDir ? path.resolve(sharedDir, 'fixtures', 'video') : undefined;
  const clips =
    gridDir && existsSync(gridDir)
      ? readdirSync(gridDir)
          .filter((f) => f.endsWith('.mpg'))
          .map((f) => path.join(gridDir, f))
      : [];
  const source =
    clips.length > 0
      ? `GRID clips ${clips.map((c) => path.basename(c)).join(', ')} repeated`
      : 'the demo photos panned';
  if (existsSync(file)) return { file, source };
  mkdirSync(BENCH_DIR, { recursive: true });
  if (clips.length === 0) {
    const demo = await makeDemoVideo({ out: file, secondsPerPhoto: seconds / 6 });
    return { file: demo.file, source };
  }
  // Concatenate the clips again and again up to `seconds` (concat demuxer, re-encoded once).
  const list = path.join(BENCH_DIR, 'clips.txt');
  const entries: string[] = [];
  for (let i = 0; entries.length * 3 < seconds + 3; i++) entries.push(`file '${clips[i % clips.length]}'`);
  writeFileSync(list, `${entries.join('\n')}\n`);
  const run = spawnSync(
    mediaBinaries().ffmpeg,
    [
      '-v',
      'error',
      '-y',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      list,
      '-t',
      String(seconds),
      '-an',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      file,
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`making the bench video: ${run.stderr}`);
  return { file, source };
}

export function linkInto(dir: string, target: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const link = path.join(dir, name);
  if (!existsSync(link)) symlinkSync(target, link);
  return link;
}

/** x264 as phones and webcams record (veryfast, B-frames); `-g N` for their short keyframe intervals. */
export const X264_LIKE_A_PHONE = ['-c:v', 'libx264', '-preset', 'veryfast'] as const;
/** HEVC as newer phones record it (x265 veryfast). */
export const X265_LIKE_A_PHONE = ['-c:v', 'libx265', '-preset', 'veryfast', '-x265-params', 'log-level=error'] as const;
/** VP9 as webcams and browsers record it (WebRTC: libvpx real-time mode). */
export const VP9_LIKE_A_WEBCAM = [
  '-c:v',
  'libvpx-vp9',
  '-deadline',
  'realtime',
  '-cpu-used',
  '8',
  '-row-mt',
  '1',
] as const;

/**
 * Re-encodes the first `seconds` of `source` into `out` as users' recordings are: scaled with
 * `scale` (an ffmpeg scale size: 1920:1080, -2:720), bicubic, the `codec` arguments, yuv420p, no audio.
 */
export function encodeLikeARecording(
  ffmpeg: string,
  source: string,
  out: string,
  options: { seconds: number; scale: string; codec: readonly string[] },
): string {
  execFileSync(ffmpeg, [
    '-v',
    'error',
    '-y',
    '-i',
    source,
    '-t',
    String(options.seconds),
    '-vf',
    `scale=${options.scale}:flags=bicubic`,
    ...options.codec,
    '-pix_fmt',
    'yuv420p',
    '-an',
    out,
  ]);
  return out;
}
