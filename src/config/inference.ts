import { z } from 'zod';
import { envBoolean, envList, int } from './env.ts';

/** Where onnxruntime sessions run and how requests are batched. Documented in docs/configuration.md. */
export const inferenceSchema = z.object({
  /** Execution providers in order of preference; unavailable ones fall back to the next (logged once). */
  executionProviders: envList(z.enum(['cuda', 'cpu'])).default(['cuda', 'cpu']),
  /**
   * onnxruntime intra-op threads per session: `auto` shares the CPUs this process can use
   * (affinity, cgroup quota) among a host's sessions; 0 lets onnxruntime choose (it counted one
   * core of two on an AMD EPYC VM: half the speed, BENCHMARKS.md); a number is used as given.
   */
  intraOpThreads: z.union([z.literal('auto'), int(0, 256)]).default('auto'),
  graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  /**
   * onnxruntime's intra-op threads spin-wait between runs (onnxruntime's own default) instead of
   * sleeping. Off: a detector, a classifier and the preprocessing threads share the cores, and a
   * spinning session takes CPU from the others (measured in bench:pipeline, BENCHMARKS.md).
   */
  threadSpinning: envBoolean.default(false),
  /**
   * onnxruntime's CPU memory arena: keeps the peak allocation of a run for the next (on, its
   * default). Off (bench:memory, a worker at batch 16): peak RSS 867 → 750 MB int8, 1274 → 1212 MB
   * fp32, for 4–6 % fewer frames/s — and 21–39 % fewer on a VM where fresh pages are dear.
   */
  cpuMemoryArena: envBoolean.default(true),
  /** Sessions (each in its own worker thread) per model per process. */
  sessionThreads: int(1, 64).default(1),
  /**
   * Worker threads per classifier that decode and resize images into batch tensors; 0 does it on
   * the main thread (the Pillow-exact resize is synchronous JavaScript and delays the event loop).
   */
  preprocessThreads: int(0, 64).default(1),
  maxBatchSize: int(1, 1024).default(8),
  maxDelayMs: z.coerce.number().min(0).max(60_000).default(5),
  maxQueue: int(1, 1_000_000).default(1024),
  /** Largest image accepted for decoding, in pixels (width × height): guards against decompression bombs. */
  maxImagePixels: int(1).default(100_000_000),
  /**
   * Model variant file under `onnx/`: `model` (fp32), e.g. `model_quantized`, or `auto`: int8 on
   * CPU where the model directory's quantization.json records ≥ 99 % top-1 agreement with fp32.
   */
  modelVariant: z.string().min(1).default('auto'),
});

export type InferenceConfig = z.infer<typeof inferenceSchema>;

export const inferenceEnv = {
  executionProviders: 'FER_EXECUTION_PROVIDERS',
  intraOpThreads: 'FER_INTRA_OP_THREADS',
  graphOptimizationLevel: 'FER_GRAPH_OPTIMIZATION',
  threadSpinning: 'FER_THREAD_SPINNING',
  cpuMemoryArena: 'FER_CPU_MEMORY_ARENA',
  sessionThreads: 'FER_SESSION_THREADS',
  preprocessThreads: 'FER_PREPROCESS_THREADS',
  maxBatchSize: 'FER_MAX_BATCH_SIZE',
  maxDelayMs: 'FER_MAX_DELAY_MS',
  maxQueue: 'FER_MAX_QUEUE',
  maxImagePixels: 'FER_MAX_IMAGE_PIXELS',
  modelVariant: 'FER_MODEL_VARIANT',
} as const;
