// face-api's tiny face detector, converted to ONNX by `models build-faceapi`
// (src/inference/faceapi/): a TinyYolov2 with separable convolutions. The graph holds the network
// and its normalisation; input preparation (bottom/right padding to a square, tfjs-style bilinear
// resize) and box decoding (sigmoid/exp on anchors, score threshold, NMS) run here and reproduce
// face-api's results. Host, batcher and reports come from HostedDetector, as for OnnxFaceDetector.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { PipelineObserver } from '../../core/observer.ts';
import type { Detection, RgbImage } from '../../core/types.ts';
import { FerError } from '../../core/errors.ts';
import type { InferenceConfig } from '../../config/inference.ts';
import { padBottomRightAndResize } from './tfjs-resize.ts';
import { decodeTinyFace } from './tiny-face-decode.ts';
import type { BatchObserver, InferenceHost } from '../types.ts';
import { HostedDetector, withInferenceHost, type DetectorBatching } from './hosted-detector.ts';
import { clampBox } from './geometry.ts';
import type { Logger } from '../../core/logger.ts';

/** The converter writes this file beside model.onnx; it names the graph's tensors and face-api's defaults. */
export const TINY_FACE_SPEC_FILE = 'faceapi-detector.json';

export const tinyFaceSpecSchema = z.object({
  type: z.literal('faceapi-tiny-face-detector'),
  model: z.string().min(1),
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  inputSize: z.number().int().min(32).max(2048).multipleOf(32),
  scoreThreshold: z.number().gt(0).lt(1),
  nmsIou: z.number().gt(0).max(1),
  maxBatch: z.number().int().min(1),
  source: z.string().optional(),
  license: z.string().optional(),
});

export type TinyFaceSpec = z.infer<typeof tinyFaceSpecSchema>;

export interface TinyFaceSettings {
  /** Square network input side, a multiple of 32 (face-api: 416). Smaller is faster; larger finds smaller faces. */
  readonly inputSize?: number | undefined;
  /** Minimum face score (face-api default 0.5). */
  readonly scoreThreshold?: number | undefined;
  readonly nmsIou?: number | undefined;
  /** Faces whose shorter side (clipped to the frame) is below this many pixels are ignored. */
  readonly minFaceSize: number;
  readonly maxFaces: number;
}

export class TinyFaceDetector extends HostedDetector {
  readonly inputSize: number;
  readonly scoreThreshold: number;
  readonly nmsIou: number;

  constructor(
    name: string,
    readonly spec: TinyFaceSpec,
    host: InferenceHost,
    private readonly settings: TinyFaceSettings,
    batching: DetectorBatching,
  ) {
    super(name, host, spec.maxBatch, batching);
    this.inputSize = settings.inputSize ?? spec.inputSize;
    this.scoreThreshold = settings.scoreThreshold ?? spec.scoreThreshold;
    this.nmsIou = settings.nmsIou ?? spec.nmsIou;
    if (
      !Number.isInteger(this.inputSize) ||
      this.inputSize < 32 ||
      this.inputSize > 2048 ||
      this.inputSize % 32 !== 0
    ) {
      throw new FerError(
        'config_invalid',
        `detector ${name}: input size must be a multiple of 32 between 32 and 2048, got ${this.inputSize}`,
      );
    }
    if (!(this.scoreThreshold > 0 && this.scoreThreshold < 1)) {
      throw new FerError(
        'config_invalid',
        `detector ${name}: score threshold must be between 0 and 1 (exclusive), got ${this.scoreThreshold}`,
      );
    }
  }

  protected async runBatch(frames: readonly RgbImage[]): Promise<Detection[][]> {
    const size = this.inputSize;
    const plane = 3 * size * size;
    const data = new Float32Array(frames.length * plane);
    // JavaScript on the caller's thread (a few ms per frame): yield between frames so one batch
    // never holds the event loop for more than one frame's resize.
    for (let i = 0; i < frames.length; i++) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      padBottomRightAndResize(frames[i]!, size, data, i * plane);
    }
    const start = performance.now();
    const outputs = await this.host.run({ [this.spec.inputName]: { data, dims: [frames.length, 3, size, size] } });
    this.reporter.batch(frames.length, performance.now() - start);
    const grid = outputs[this.spec.outputName];
    if (grid === undefined)
      throw new Error(
        `detector ${this.name}: model has no output "${this.spec.outputName}" (got ${Object.keys(outputs).join(', ')})`,
      );
    return frames.map((frame, i) =>
      this.finish(
        decodeTinyFace(grid, i, frame.width, frame.height, size, {
          scoreThreshold: this.scoreThreshold,
          iouThreshold: this.nmsIou,
        }),
        frame,
      ),
    );
  }

  /** face-api leaves boxes unclipped (it clips when cropping); consumers here get boxes inside the frame. */
  private finish(found: Detection[], frame: RgbImage): Detection[] {
    const kept: Detection[] = [];
    for (const d of found) {
      if (kept.length >= this.settings.maxFaces) break;
      const box = clampBox(d.box, frame.width, frame.height);
      if (Math.min(box.width, box.height) < Math.max(this.settings.minFaceSize, 1e-6)) continue;
      kept.push({ box, score: d.score });
    }
    return kept;
  }
}

export interface LoadTinyFaceOptions {
  readonly settings: TinyFaceSettings;
  readonly inference: InferenceConfig;
  readonly observer?: BatchObserver<RgbImage>;
  readonly pipelineObserver?: PipelineObserver;
  readonly logger?: Logger;
}

export async function readTinyFaceSpec(dir: string): Promise<TinyFaceSpec> {
  const specPath = path.join(dir, TINY_FACE_SPEC_FILE);
  const text = await readFile(specPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new FerError(
        'model_missing',
        `no face-api detector at ${dir} (${TINY_FACE_SPEC_FILE} missing); build it with "fer-stream models build-faceapi"`,
      );
    throw error;
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new FerError('model_invalid', `${specPath}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = tinyFaceSpecSchema.safeParse(raw);
  if (!parsed.success)
    throw new FerError(
      'model_invalid',
      `${specPath}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Reads `dir/faceapi-detector.json`, starts the ONNX sessions, returns a ready detector. */
export async function loadTinyFaceDetector(dir: string, options: LoadTinyFaceOptions): Promise<TinyFaceDetector> {
  const spec = await readTinyFaceSpec(dir);
  return withInferenceHost(
    path.join(dir, spec.model),
    options.inference,
    (host, batching) =>
      new TinyFaceDetector(path.basename(dir), spec, host, options.settings, {
        ...batching,
        ...(options.observer ? { observer: options.observer } : {}),
        ...(options.pipelineObserver ? { pipelineObserver: options.pipelineObserver } : {}),
      }),
    options.logger,
  );
}
