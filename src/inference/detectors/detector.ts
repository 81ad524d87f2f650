// A face detector = a detector model directory (detector.json + ONNX) + an inference host (its
// sessions run in worker threads) + a dynamic batcher. Frames from any caller are batched where
// the exported graph allows it (yunet_s_dynamic); fixed-batch models run one frame per run, still
// concurrently across the host's threads.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PipelineObserver } from '../../core/observer.ts';
import type { Detection, RgbImage } from '../../core/types.ts';
import { FerError } from '../../core/types.ts';
import type { InferenceConfig } from '../../config/inference.ts';
import { createInferenceHost, hostOptionsFromConfig } from '../backend/index.ts';
import { DynamicBatcher } from '../batcher.ts';
import { InferenceReporter } from '../inference-reporter.ts';
import type { BatchObserver, FaceDetector, InferenceHost } from '../types.ts';
import { decodeUltraFace, decodeYuNet, type DecodeOptions } from './decode.ts';
import { letterboxMapping, stretchMapping, type InputMapping } from './geometry.ts';
import { assertRgbImage, writeDetectorInput } from './preprocess.ts';
import { DETECTOR_SPEC_FILE, parseDetectorSpec, type DetectorSpec } from './spec.ts';

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
}

export interface DetectorBatching {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  readonly observer?: BatchObserver<RgbImage>;
  /** Receives one `inferenceBatch` event (stage "detect") per run, and the threads' busy ratio. */
  readonly pipelineObserver?: PipelineObserver;
  /** How often the busy ratio is reported. */
  readonly busyReportMs?: number;
}

export class OnnxFaceDetector implements FaceDetector {
  private readonly batcher: DynamicBatcher<RgbImage, Detection[]>;
  private readonly decodeOptions: DecodeOptions;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly maxBatchSize: number;
  private readonly reporter: InferenceReporter;

  constructor(
    readonly name: string,
    readonly spec: DetectorSpec,
    private readonly host: InferenceHost,
    settings: DetectorSettings,
    private readonly batching: DetectorBatching,
  ) {
    this.inputWidth = spec.inputWidth;
    this.inputHeight = spec.inputHeight;
    if (settings.inputWidth !== undefined || settings.inputHeight !== undefined) {
      const w = settings.inputWidth ?? spec.inputWidth;
      const h = settings.inputHeight ?? spec.inputHeight;
      if (!spec.dynamicSize && (w !== spec.inputWidth || h !== spec.inputHeight)) {
        throw new FerError('config_invalid', `detector ${name} has a fixed input size ${spec.inputWidth}x${spec.inputHeight}; ${w}x${h} was configured`);
      }
      if (w % spec.sizeMultiple !== 0 || h % spec.sizeMultiple !== 0) {
        throw new FerError('config_invalid', `detector ${name}: input size ${w}x${h} must be multiples of ${spec.sizeMultiple}`);
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
    this.maxBatchSize = Math.max(1, Math.min(spec.maxBatch, batching.maxBatchSize));
    this.reporter = new InferenceReporter({ stage: 'detect', host, maxBatchSize: this.maxBatchSize, observer: batching.pipelineObserver, busyReportMs: batching.busyReportMs });
    this.batcher = new DynamicBatcher<RgbImage, Detection[]>({
      name,
      maxBatchSize: this.maxBatchSize,
      maxDelayMs: batching.maxDelayMs,
      maxQueue: batching.maxQueue,
      // One batch per session thread, plus one being prepared (resized) while the threads run.
      concurrency: host.threads + 1,
      runBatch: (frames) => this.runBatch(frames),
      ...(batching.observer ? { observer: batching.observer } : {}),
    });
  }

  get executionProvider(): string {
    return this.host.executionProvider;
  }

  /** Score threshold, NMS IoU and limits in use (the model's reference values unless configured). */
  get settings(): DecodeOptions {
    return this.decodeOptions;
  }

  detect(image: RgbImage): Promise<Detection[]> {
    try {
      assertRgbImage(image);
    } catch (error) {
      return Promise.reject(new FerError('image_invalid', (error as Error).message));
    }
    return this.batcher.submit(image);
  }

  async close(): Promise<void> {
    await this.batcher.drain();
    await this.host.close();
  }

  private mapping(image: RgbImage): InputMapping {
    const map = this.spec.resize === 'stretch' ? stretchMapping : letterboxMapping;
    return map(image.width, image.height, this.inputWidth, this.inputHeight);
  }

  private async runBatch(frames: readonly RgbImage[]): Promise<Detection[][]> {
    const plane = 3 * this.inputWidth * this.inputHeight;
    const data = new Float32Array(frames.length * plane);
    const mappings = frames.map((f) => this.mapping(f));
    await Promise.all(frames.map((f, i) => writeDetectorInput(f, mappings[i]!, this.spec, data, i * plane)));
    const start = performance.now();
    const outputs = await this.host.run({ [this.spec.inputName]: { data, dims: [frames.length, 3, this.inputHeight, this.inputWidth] } });
    this.reporter.batch(frames.length, performance.now() - start);
    const decode = this.spec.type === 'ultraface' ? decodeUltraFace : decodeYuNet;
    return frames.map((f, i) => decode(outputs, i, mappings[i]!, f, this.decodeOptions));
  }
}

export interface LoadDetectorOptions {
  readonly settings: DetectorSettings;
  readonly inference: InferenceConfig;
  readonly observer?: BatchObserver<RgbImage>;
  readonly pipelineObserver?: PipelineObserver;
}

/** Reads `dir/detector.json`, starts the ONNX sessions, returns a ready detector. */
export async function loadDetector(dir: string, options: LoadDetectorOptions): Promise<OnnxFaceDetector> {
  const specPath = path.join(dir, DETECTOR_SPEC_FILE);
  const text = await readFile(specPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new FerError('model_missing', `no detector model at ${dir} (${DETECTOR_SPEC_FILE} missing); install one with "fer-stream models fetch ultraface" or "fer-stream models fetch yunet"`);
    }
    throw error;
  });
  const spec = parseDetectorSpec(text, specPath);
  const host = await createInferenceHost(hostOptionsFromConfig(options.inference, path.join(dir, spec.model)));
  try {
    return new OnnxFaceDetector(path.basename(dir), spec, host, options.settings, {
      maxBatchSize: options.inference.maxBatchSize,
      maxDelayMs: options.inference.maxDelayMs,
      maxQueue: options.inference.maxQueue,
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.pipelineObserver ? { pipelineObserver: options.pipelineObserver } : {}),
    });
  } catch (error) {
    await host.close();
    throw error;
  }
}
