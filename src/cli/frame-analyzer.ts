// Builds the worker's FrameAnalyzer from command-line choices. Whole-frame mode: the model
// directory's classifier on the whole frame. `cost-free` measures the pipeline itself
// (bench:overhead, plumbing tests) — it is not a model.

import path from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { FrameAnalyzer, RgbImage } from '../core/types.ts';
import { createImageClassifier } from '../inference/classifier.ts';
import type { BatchObserver, ImageInput } from '../inference/types.ts';
import { CostFreeAnalyzer, frameOrigin, WholeFrameAnalyzer } from '../worker/index.ts';
import { UsageError } from './args.ts';

export const ANALYZER_KINDS = ['whole-frame', 'cost-free'] as const;
export type AnalyzerKind = (typeof ANALYZER_KINDS)[number];

/** Where `fer-stream models fetch` installs the expression ViT under the models directory. */
export const DEFAULT_MODEL = 'vit-fer';

export function parseAnalyzerKind(value: string | undefined): AnalyzerKind {
  const kind = value ?? 'whole-frame';
  if (!(ANALYZER_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--analyzer must be one of ${ANALYZER_KINDS.join(', ')}, got "${kind}"`);
  return kind as AnalyzerKind;
}

/**
 * Logs every inference batch at debug level with the videos its frames came from, so batch
 * composition across jobs and videos is visible (LOG_LEVEL=debug).
 */
export function batchLogger(logger: Logger): BatchObserver<ImageInput> {
  return {
    onBatch(event) {
      if (!logger.isLevelEnabled('debug')) return;
      const frames = event.requests.map((r) => (r instanceof Uint8Array ? undefined : frameOrigin(r as RgbImage))).filter((o) => o !== undefined);
      logger.debug({ batch: { size: event.size, videos: [...new Set(frames.map((f) => f.videoId))], frames: frames.map((f) => `${f.videoId}#${f.index}`) } }, 'inference batch');
    },
  };
}

export async function createFrameAnalyzer(options: {
  kind: AnalyzerKind;
  config: Config;
  modelDir?: string;
  logger: Logger;
  observer?: PipelineObserver;
}): Promise<FrameAnalyzer> {
  const batchObserver = batchLogger(options.logger);
  if (options.kind === 'cost-free') {
    return new CostFreeAnalyzer({ maxBatchSize: options.config.inference.maxBatchSize, maxDelayMs: options.config.inference.maxDelayMs, batchObserver });
  }
  const modelDir = options.modelDir ?? path.join(options.config.modelsDir, DEFAULT_MODEL);
  const classifier = await createImageClassifier(modelDir, {
    config: options.config.inference,
    logger: options.logger,
    batchObserver,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  return new WholeFrameAnalyzer(classifier);
}
