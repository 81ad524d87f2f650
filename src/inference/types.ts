// Interfaces of the inference layer. Implementations: backend/ (onnxruntime, the only place that
// imports onnxruntime-node), batcher.ts, classifier.ts, detectors/.

import type { Classification, Detection, RgbImage } from '../core/types.ts';

/** A dense float32 tensor as it crosses thread boundaries (the buffer may be transferred). */
export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export type TensorMap = Readonly<Record<string, Tensor>>;

export type ExecutionProviderName = 'cuda' | 'cpu';

/** Name, element type and shape of a model input or output; symbolic dimensions are strings (e.g. 'batch'). */
export interface TensorInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/**
 * Runs one ONNX model on a pool of worker threads (one session each), never on the caller's
 * thread: `session.run` blocks its thread for the whole inference.
 */
export interface InferenceHost {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The provider the sessions actually got after fallback, e.g. 'cpu' when CUDA is unavailable. */
  readonly executionProvider: ExecutionProviderName;
  readonly threads: number;
  /** Input and output metadata as the session reports it (used to validate model directories). */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /**
   * Runs one inference on an idle thread. The input buffers are transferred to that thread, not
   * copied: the caller must not use them afterwards.
   */
  run(inputs: TensorMap): Promise<Record<string, Tensor>>;
  /** Cumulative milliseconds each thread has spent running (the run in progress included), for busy ratios. */
  busyMs(): readonly number[];
  /** Waits for runs in flight, then ends the threads. */
  close(): Promise<void>;
}

/** Collects single requests into batches (Triton-style dynamic batching). */
export interface Batcher<TRequest, TResult> {
  submit(request: TRequest): Promise<TResult>;
  /** Requests waiting for a batch (not yet running). */
  readonly pending: number;
  /** Stops accepting requests, runs what is queued, waits for batches in flight. */
  drain(): Promise<void>;
}

/** Observes every batch run, for metrics and for tests that need to see batch composition. */
export interface BatchObserver<TRequest = unknown> {
  onBatch?(event: {
    size: number;
    maxBatchSize: number;
    queueMs: number[];
    runMs: number;
    requests: readonly TRequest[];
    error?: Error;
  }): void;
}

/** Image input to preprocessing: an encoded file (JPEG, PNG, …) or raw RGB pixels. */
export type ImageInput = Uint8Array | RgbImage;

export interface ImageClassifier {
  readonly name: string;
  readonly labels: readonly string[];
  readonly executionProvider: ExecutionProviderName;
  classify(image: ImageInput): Promise<Classification>;
  close(): Promise<void>;
}

/** Face crop in, identity descriptor out (face-embedder.ts). */
export interface FaceIdentityEmbedder {
  readonly name: string;
  embed(crop: RgbImage): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface FaceDetector {
  readonly name: string;
  detect(image: RgbImage): Promise<Detection[]>;
  close(): Promise<void>;
}

/**
 * `preprocessor_config.json` of a model directory: Hugging Face ViTImageProcessor fields, plus
 * fer-stream's optional `pad_to_square` (pad the image to a centred square before resizing, as
 * face-api does; the padding colour is black).
 */
export interface PreprocessorConfig {
  readonly image_processor_type?: string;
  readonly do_resize: boolean;
  readonly size: { readonly height: number; readonly width: number };
  /** PIL resample filter id: 0 nearest, 2 bilinear, 3 bicubic. */
  readonly resample: number;
  readonly do_rescale: boolean;
  readonly rescale_factor: number;
  readonly do_normalize: boolean;
  readonly image_mean: readonly [number, number, number];
  readonly image_std: readonly [number, number, number];
  /** Channel order the network expects; default RGB. */
  readonly channel_order?: 'rgb' | 'bgr';
  readonly pad_to_square?: boolean;
}
