// FaceEmbedder: a face crop in, an identity descriptor out (face-api's recognition net, 128 values;
// faces of one person lie close together). Requests from every frame and video share batches
// through the dynamic batcher, as the classifier's do; sessions run in worker threads.
// The model directory (models/faceapi/convert.ts writes it with face-api's other nets):
//   faceapi-face-recognition/  embedder.json (this spec) + model.onnx

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { InferenceConfig } from '../config/inference.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { RgbImage } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import { createInferenceHost, hostOptionsFromConfig } from './backend/index.ts';
import { DynamicBatcher } from './batcher.ts';
import { InferenceReporter } from './inference-reporter.ts';
import { preprocessInto, preprocessedLength, squareImageProcessor } from './preprocess.ts';
import type { InferenceHost, PreprocessorConfig } from './types.ts';

export const EMBEDDER_SPEC_FILE = 'embedder.json';

const specSchema = z.object({
  type: z.literal('faceapi-face-recognition'),
  model: z.string().min(1),
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  inputSize: z.number().int().positive(),
  /** Per-channel RGB means subtracted before dividing by 255. */
  mean: z.tuple([z.number(), z.number(), z.number()]),
  dimensions: z.number().int().positive(),
  source: z.string().optional(),
  license: z.string().optional(),
});
export type EmbedderSpec = z.infer<typeof specSchema>;

export interface FaceEmbedderOptions {
  readonly config: InferenceConfig;
  readonly observer?: PipelineObserver;
  readonly logger?: Logger;
}

export class FaceEmbedder {
  readonly name: string;
  readonly dimensions: number;
  private readonly preprocessor: PreprocessorConfig;
  private readonly batcher: DynamicBatcher<RgbImage, Float32Array>;
  private readonly reporter: InferenceReporter;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly spec: EmbedderSpec,
    name: string,
    private readonly host: InferenceHost,
    options: FaceEmbedderOptions,
  ) {
    this.name = name;
    this.dimensions = spec.dimensions;
    const size = spec.inputSize;
    // face-api's toBatchTensor: pad to a centred black square, resize, then (x − mean) / 255.
    this.preprocessor = squareImageProcessor(
      size,
      spec.mean.map((m) => m / 255),
      [1, 1, 1],
      { padToSquare: true },
    );
    const { maxBatchSize, maxDelayMs, maxQueue } = options.config;
    this.reporter = new InferenceReporter({
      stage: 'embed',
      host,
      maxBatchSize,
      observer: options.observer,
      onObserverError: (error) => options.logger?.warn({ err: error }, 'pipeline observer threw'),
    });
    this.batcher = new DynamicBatcher<RgbImage, Float32Array>({
      name,
      maxBatchSize,
      maxDelayMs,
      maxQueue,
      concurrency: host.threads + 1,
      runBatch: (crops) => this.runBatch(crops),
    });
  }

  /** The descriptor of one face crop (any size; padded to a square and resized here). */
  embed(crop: RgbImage): Promise<Float32Array> {
    return this.batcher.submit(crop);
  }

  close(): Promise<void> {
    this.closing ??= this.batcher.drain().then(() => this.host.close());
    return this.closing;
  }

  private async runBatch(crops: readonly RgbImage[]): Promise<Array<Float32Array | Error>> {
    const size = this.spec.inputSize;
    const plane = preprocessedLength(this.preprocessor);
    const data = new Float32Array(crops.length * plane);
    const prepared = await Promise.allSettled(
      crops.map((crop, i) => preprocessInto(crop, this.preprocessor, data, i * plane)),
    );
    const start = performance.now();
    const outputs = await this.host.run({ [this.spec.inputName]: { data, dims: [crops.length, 3, size, size] } });
    this.reporter.batch(crops.length, performance.now() - start);
    const out = outputs[this.spec.outputName];
    const d = this.dimensions;
    if (out === undefined || out.dims[1] !== d)
      throw new FerError(
        'inference_failed',
        `face embedder ${this.name} returned no [N, ${d}] "${this.spec.outputName}" output`,
      );
    return prepared.map((p, i) => (p.status === 'rejected' ? (p.reason as Error) : out.data.slice(i * d, (i + 1) * d)));
  }
}

/** Reads and checks `embedder.json` of a model directory. */
export async function readEmbedderSpec(dir: string): Promise<EmbedderSpec> {
  const file = path.join(dir, EMBEDDER_SPEC_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new FerError('model_missing', `cannot read the face embedder spec ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success)
    throw new FerError(
      'model_invalid',
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Opens the embedder in `dir` and starts its sessions; close() it when done. */
export async function createFaceEmbedder(dir: string, options: FaceEmbedderOptions): Promise<FaceEmbedder> {
  const spec = await readEmbedderSpec(dir);
  const host = await createInferenceHost(
    hostOptionsFromConfig(options.config, path.join(dir, spec.model), options.logger),
  );
  return new FaceEmbedder(spec, path.basename(dir), host, options);
}
