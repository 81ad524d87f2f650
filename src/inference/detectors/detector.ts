// A face detector = a detector model directory (detector.json + ONNX) + an inference host (its
// sessions run in worker threads) + a dynamic batcher. Frames from any caller are batched where
// the exported graph allows it (yunet_s_dynamic); fixed-batch models run one frame per run, still
// concurrently across the host's threads.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PipelineObserver } from '../../core/observer.ts';
import type { Detection, RgbImage } from '../../core/types.ts';
import { FerError } from '../../core/errors.ts';
import type { InferenceConfig } from '../../config/inference.ts';
import type { BatchObserver, InferenceHost } from '../types.ts';
import { HostedDetector, withInferenceHost, type DetectorBatching } from './hosted-detector.ts';
import type { DecodeOptions } from './decode.ts';
import type { DecodeDetections } from './family.ts';
import { detectorFamily, downloadableFamilies } from './families/index.ts';
import { dynamicInputSize, letterboxMapping, stretchMapping, type InputMapping } from './geometry.ts';
import { writeDetectorInput } from './preprocess.ts';
import { warmUp } from '../backend/warm-up.ts';
import { DETECTOR_SPEC_FILE, parseDetectorSpec, type DetectorSpec } from './spec.ts';
import type { Logger } from '../../core/logger.ts';

export interface DetectorSettings {
  /** Overrides the model's reference threshold (detector.json) when set. */
  readonly scoreThreshold?: number | undefined;
  readonly nmsIou?: number | undefined;
  /** Faces whose shorter side is below this (frame pixels) are ignored. */
  readonly minFaceSize: number;
  readonly maxFaces: number;
  /** Network input size for dynamic-size models (multiples of the model's sizeMultiple). */
  readonly inputWidth?: number | undefined;
  readonly inputHeight?: number | undefined;
  /**
   * Dynamic-size models: each frame at its own size (rounded up to the size multiple, padded)
   * instead of letterboxed into one fixed input — no resize, and no pixels spent on padding or
   * upscaling a small frame. Ignored by fixed-size models.
   */
  readonly frameSizedInput?: boolean | undefined;
}

export class OnnxFaceDetector extends HostedDetector {
  private readonly decodeOptions: DecodeOptions;
  readonly inputWidth: number;
  readonly inputHeight: number;
  private readonly frameSized: boolean;
  private readonly decode: DecodeDetections;

  /** Whether each frame runs at its own size (FER_DETECTOR_INPUT_SIZE=frame on a dynamic-size model). */
  get frameSizedInput(): boolean {
    return this.frameSized;
  }

  /** One run of zeros per session thread (backend/warm-up.ts). */
  warmUp(inputName: string, dims: readonly number[]): Promise<void> {
    return warmUp(this.host, inputName, dims);
  }

  constructor(
    name: string,
    readonly spec: DetectorSpec,
    host: InferenceHost,
    settings: DetectorSettings,
    batching: DetectorBatching,
  ) {
    super(name, host, spec.maxBatch, batching);
    this.decode = detectorFamily(spec.type).decode;
    this.inputWidth = spec.inputWidth;
    this.inputHeight = spec.inputHeight;
    // Models with a fixed input size keep it.
    this.frameSized = settings.frameSizedInput === true && spec.dynamicSize;
    if (settings.inputWidth !== undefined || settings.inputHeight !== undefined) {
      const w = settings.inputWidth ?? spec.inputWidth;
      const h = settings.inputHeight ?? spec.inputHeight;
      if (!spec.dynamicSize && (w !== spec.inputWidth || h !== spec.inputHeight)) {
        throw new FerError(
          'config_invalid',
          `detector ${name} has a fixed input size ${spec.inputWidth}x${spec.inputHeight}; ${w}x${h} was configured`,
        );
      }
      if (w % spec.sizeMultiple !== 0 || h % spec.sizeMultiple !== 0) {
        throw new FerError(
          'config_invalid',
          `detector ${name}: input size ${w}x${h} must be multiples of ${spec.sizeMultiple}`,
        );
      }
      this.inputWidth = w;
      this.inputHeight = h;
    }
    this.decodeOptions = {
      scoreThreshold: settings.scoreThreshold ?? spec.scoreThreshold,
      nmsIou: settings.nmsIou ?? spec.nmsIou,
      minFaceSize: settings.minFaceSize,
      maxFaces: settings.maxFaces,
    };
  }

  /** Score threshold, NMS IoU and limits in use (the model's reference values unless configured). */
  get settings(): DecodeOptions {
    return this.decodeOptions;
  }

  private mapping(image: RgbImage): InputMapping {
    if (this.frameSized) {
      const { width, height } = dynamicInputSize(
        image.width,
        image.height,
        Math.max(image.width, image.height),
        this.spec.sizeMultiple,
      );
      return letterboxMapping(image.width, image.height, width, height);
    }
    const map = this.spec.resize === 'stretch' ? stretchMapping : letterboxMapping;
    return map(image.width, image.height, this.inputWidth, this.inputHeight);
  }

  protected async runBatch(frames: readonly RgbImage[]): Promise<Detection[][]> {
    const mappings = frames.map((f) => this.mapping(f));
    // Frame-sized inputs: one run per input size in the batch (frames of one video share theirs).
    const groups = new Map<string, number[]>();
    mappings.forEach((m, i) => {
      const key = `${m.inputWidth}x${m.inputHeight}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const results: Detection[][] = new Array(frames.length);
    await Promise.all(
      [...groups.values()].map(async (members) => {
        const { inputWidth: W, inputHeight: H } = mappings[members[0]!]!;
        const plane = 3 * W * H;
        const data = new Float32Array(members.length * plane);
        await Promise.all(
          members.map((frame, slot) =>
            writeDetectorInput(frames[frame]!, mappings[frame]!, this.spec, data, slot * plane),
          ),
        );
        const start = performance.now();
        const dims = this.spec.layout === 'nhwc' ? [members.length, H, W, 3] : [members.length, 3, H, W];
        const outputs = await this.host.run({ [this.spec.inputName]: { data, dims } });
        this.reporter.batch(members.length, performance.now() - start);
        members.forEach(
          (frame, slot) =>
            (results[frame] = this.decode(outputs, slot, mappings[frame]!, frames[frame]!, this.decodeOptions)),
        );
      }),
    );
    return results;
  }
}

export interface LoadDetectorOptions {
  readonly settings: DetectorSettings;
  readonly inference: InferenceConfig;
  readonly observer?: BatchObserver<RgbImage>;
  readonly pipelineObserver?: PipelineObserver;
  /** Where the provider fallback is said (once per process); default: the inference logger. */
  readonly logger?: Logger;
}

/** Reads `dir/detector.json`, starts the ONNX sessions, returns a ready detector. */
export async function loadDetector(dir: string, options: LoadDetectorOptions): Promise<OnnxFaceDetector> {
  const specPath = path.join(dir, DETECTOR_SPEC_FILE);
  const text = await readFile(specPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      const fetchable = downloadableFamilies().map((f) => `"fer-stream models fetch ${f.name}"`);
      throw new FerError(
        'model_missing',
        `no detector model at ${dir} (${DETECTOR_SPEC_FILE} missing); install one with ${fetchable.join(' or ')}`,
      );
    }
    throw error;
  });
  const spec = parseDetectorSpec(text, specPath);
  detectorFamily(spec.type); // an unknown family fails here, before any session starts
  const detector = await withInferenceHost(
    path.join(dir, spec.model),
    options.inference,
    (host, batching) =>
      new OnnxFaceDetector(path.basename(dir), spec, host, options.settings, {
        ...batching,
        ...(options.observer ? { observer: options.observer } : {}),
        ...(options.pipelineObserver ? { pipelineObserver: options.pipelineObserver } : {}),
      }),
    options.logger,
  );
  // A fixed input warms up at the batch it will run; a frame-sized one does not know its size yet.
  if (!detector.frameSizedInput) {
    const batch = detector.maxBatchSize;
    const dims =
      spec.layout === 'nhwc'
        ? [batch, detector.inputHeight, detector.inputWidth, 3]
        : [batch, 3, detector.inputHeight, detector.inputWidth];
    await detector.warmUp(spec.inputName, dims).catch(async (error: unknown) => {
      await detector.close();
      throw error;
    });
  }
  return detector;
}
