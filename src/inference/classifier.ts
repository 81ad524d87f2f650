// ImageClassifier: a model directory, preprocessing, the dynamic batcher and a thread host.
// Each classify() call is one request; the batcher groups concurrent calls (from any job or video)
// into one tensor. A preprocessing thread writes every image straight into its slot of the batch
// tensor (decode by sharp, Pillow-exact resize in JavaScript: off the caller's event loop), then
// the tensor moves to a session thread. Transfer lists move it; it is never copied.

import { performance } from 'node:perf_hooks';
import type { InferenceConfig } from '../config/inference.ts';
import type { Logger } from '../core/logger.ts';
import type { InferenceStage, PipelineObserver } from '../core/observer.ts';
import type { Classification, ModelInfo } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import { reorder } from '../core/expressions.ts';
import type { ThreadSessionHost } from './backend/index.ts';
import { DynamicBatcher } from './batcher.ts';
import { InferenceReporter } from './inference-reporter.ts';
import { LOGITS, openModelDir, PIXEL_VALUES, type ModelDirectory } from './model-dir.ts';
import { preprocessInto, preprocessedLength } from './preprocess.ts';
import { PreprocessPool } from './preprocess-pool.ts';
import type { BatchObserver, ExecutionProviderName, ImageClassifier, ImageInput } from './types.ts';

export interface ClassifierOptions {
  readonly config: InferenceConfig;
  readonly observer?: PipelineObserver;
  /** Per-batch hook (tests use it to see which requests shared a batch). */
  readonly batchObserver?: BatchObserver<ImageInput>;
  readonly logger?: Logger;
  /** How metrics name this model's stage; 'classify' unless a detector-like use says otherwise. */
  readonly stage?: InferenceStage;
  /** How often the threads' busy ratio is reported to the observer. */
  readonly busyReportMs?: number;
}

/** Numerically stable softmax of one row of logits. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function classificationFrom(probabilities: number[], labels: readonly string[]): Classification {
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
  return { probabilities, label: labels[best]!, labelIndex: best };
}

export class OnnxImageClassifier implements ImageClassifier {
  readonly name: string;
  readonly labels: readonly string[];
  private readonly batcher: DynamicBatcher<ImageInput, Classification>;
  private readonly stage: InferenceStage;
  private readonly reporter: InferenceReporter;
  private closing: Promise<void> | undefined;
  /** Undefined when configured with preprocessThreads 0: preprocessing then runs on this thread. */
  private readonly pool: PreprocessPool | undefined;

  constructor(
    readonly model: ModelDirectory,
    private readonly host: ThreadSessionHost,
    private readonly options: ClassifierOptions,
  ) {
    this.name = model.name;
    // Reported in canonical names and order (core/expressions.ts); the model's own names stay in info.modelLabels.
    this.labels = model.reported.labels;
    this.stage = options.stage ?? 'classify';
    this.reporter = new InferenceReporter({
      stage: this.stage,
      host,
      maxBatchSize: options.config.maxBatchSize,
      observer: options.observer,
      busyReportMs: options.busyReportMs,
      onObserverError: (error) => options.logger?.warn({ err: error }, 'pipeline observer threw'),
    });
    const { preprocessThreads, maxImagePixels } = options.config;
    this.pool =
      preprocessThreads > 0
        ? PreprocessPool.forConfig(model.preprocessor, { threads: preprocessThreads, maxPixels: maxImagePixels })
        : undefined;
    const { maxBatchSize, maxDelayMs, maxQueue } = options.config;
    this.batcher = new DynamicBatcher<ImageInput, Classification>({
      name: model.name,
      maxBatchSize,
      maxDelayMs,
      maxQueue,
      // One batch per session thread in flight keeps every thread busy; one more lets the next
      // batch be decoded while the threads run.
      concurrency: host.threads + 1,
      runBatch: (images) => this.runBatch(images),
      ...(options.batchObserver ? { observer: options.batchObserver } : {}),
    });
  }

  get executionProvider(): ExecutionProviderName {
    return this.host.executionProvider;
  }

  get threads(): number {
    return this.host.threads;
  }

  /** Requests waiting for a batch. */
  get pending(): number {
    return this.batcher.pending;
  }

  get info(): ModelInfo {
    return {
      name: this.name,
      labels: this.labels,
      modelLabels: this.model.labels,
      preprocessing: { ...this.model.preprocessor },
      executionProvider: this.executionProvider,
      variant: {
        file: `onnx/${this.model.variant}.onnx`,
        ...(this.model.variantReason ? { reason: this.model.variantReason } : {}),
      },
    };
  }

  classify(image: ImageInput): Promise<Classification> {
    return this.batcher.submit(image);
  }

  /** Runs what is queued, waits for batches in flight, then stops the session threads. */
  close(): Promise<void> {
    this.closing ??= this.batcher.drain().then(async () => {
      await Promise.all([this.host.close(), this.pool?.close()]);
    });
    return this.closing;
  }

  private async runBatch(images: readonly ImageInput[]): Promise<Array<Classification | Error>> {
    const { height, width } = this.model.preprocessor.size;
    const channels = this.model.channels;
    const plane = preprocessedLength(this.model.preprocessor);
    const n = images.length;
    const { data, failures } = await this.fill(images, new Float32Array(n * plane), plane);
    // A slot whose image failed stays zero; its result is the error, the rest of the batch runs.
    if (failures.every((f) => f !== undefined)) return failures as Error[];

    const start = performance.now();
    const outputs = await this.host.run({ [PIXEL_VALUES]: { data, dims: [n, channels, height, width] } });
    const durationMs = performance.now() - start;
    this.reporter.batch(n, durationMs);

    const logits = outputs[LOGITS];
    const classes = this.model.labels.length;
    if (logits === undefined)
      throw new FerError('inference_failed', `model ${this.name} returned no "${LOGITS}" output`);
    if (logits.dims.length !== 2 || logits.dims[0] !== n || logits.dims[1] !== classes) {
      throw new FerError(
        'inference_failed',
        `model ${this.name} returned logits of shape [${logits.dims.join(', ')}], expected [${n}, ${classes}] (id2label has ${classes} labels)`,
      );
    }
    return images.map(
      (_, i) =>
        failures[i] ??
        classificationFrom(
          reorder(softmax(logits.data.subarray(i * classes, (i + 1) * classes)), this.model.reported),
          this.labels,
        ),
    );
  }

  private async fill(
    images: readonly ImageInput[],
    out: Float32Array,
    plane: number,
  ): Promise<{ data: Float32Array; failures: Array<Error | undefined> }> {
    if (this.pool !== undefined) {
      const filled = await this.pool.fill(images, out, plane);
      return { data: filled.out, failures: [...filled.errors] };
    }
    const limits = { maxPixels: this.options.config.maxImagePixels };
    const prepared = await Promise.allSettled(
      images.map((image, i) => preprocessInto(image, this.model.preprocessor, out, i * plane, limits)),
    );
    return { data: out, failures: prepared.map((p) => (p.status === 'rejected' ? asError(p.reason) : undefined)) };
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Opens a model directory (validated) and starts its sessions; close() the classifier when done. */
export async function createImageClassifier(dir: string, options: ClassifierOptions): Promise<OnnxImageClassifier> {
  const { model, host } = await openModelDir(dir, options.config, options.logger);
  return new OnnxImageClassifier(model, host, options);
}
