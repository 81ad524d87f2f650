// What every ONNX face detector shares: an inference host (sessions in worker threads), a dynamic
// batcher in front of it, and the batch/busy reports to the pipeline observer. A detector adds
// its own input preparation and decoding in `runBatch`.

import type { PipelineObserver } from '../../core/observer.ts';
import type { Detection, RgbImage } from '../../core/types.ts';
import { FerError } from '../../core/errors.ts';
import type { InferenceConfig } from '../../config/inference.ts';
import { createInferenceHost, hostOptionsFromConfig } from '../backend/index.ts';
import { DynamicBatcher } from '../batcher.ts';
import { InferenceReporter } from '../inference-reporter.ts';
import type { BatchObserver, FaceDetector, InferenceHost } from '../types.ts';
import { assertRgbImage } from './preprocess.ts';
import type { Logger } from '../../core/logger.ts';

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

export abstract class HostedDetector implements FaceDetector {
  /** The configured batch size, capped by what the exported graph accepts. */
  readonly maxBatchSize: number;
  protected readonly reporter: InferenceReporter;
  private readonly batcher: DynamicBatcher<RgbImage, Detection[]>;

  protected constructor(
    readonly name: string,
    protected readonly host: InferenceHost,
    modelMaxBatch: number,
    batching: DetectorBatching,
  ) {
    this.maxBatchSize = Math.max(1, Math.min(modelMaxBatch, batching.maxBatchSize));
    this.reporter = new InferenceReporter({
      stage: 'detect',
      host,
      maxBatchSize: this.maxBatchSize,
      observer: batching.pipelineObserver,
      busyReportMs: batching.busyReportMs,
    });
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

  /** Prepares the frames' input tensor, runs it, decodes each frame's faces (boxes in frame pixels). */
  protected abstract runBatch(frames: readonly RgbImage[]): Promise<Detection[][]>;
}

/** Starts the sessions for `modelPath` and builds a detector on them; the sessions are closed if that fails. */
export async function withInferenceHost<T>(
  modelPath: string,
  inference: InferenceConfig,
  build: (host: InferenceHost, batching: Omit<DetectorBatching, 'observer' | 'pipelineObserver'>) => T,
  logger?: Logger,
): Promise<T> {
  const host = await createInferenceHost(hostOptionsFromConfig(inference, modelPath, logger));
  try {
    return build(host, {
      maxBatchSize: inference.maxBatchSize,
      maxDelayMs: inference.maxDelayMs,
      maxQueue: inference.maxQueue,
    });
  } catch (error) {
    await host.close();
    throw error;
  }
}
