// Builds the worker's FrameAnalyzer from the caller's choices (a command's flags, the
// configuration). Faces mode (the default): a profile's detector + expression model (or --model
// DIR's), detect-then-classify (src/inference/profiles.ts: compact, vit, or auto = vit when
// installed, else compact). Whole-frame mode (--no-detect, FER_DETECT=false): the model directory's
// classifier on the whole frame, for inputs that are already face crops. `cost-free` measures the
// pipeline itself (bench:overhead, plumbing tests) — it is not a model.

import { FerError } from '../core/errors.ts';
import path from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { FrameAnalyzer, RgbImage } from '../core/types.ts';
import { chooseProfile, createProfileAnalyzer, type ProfileChoice } from '../inference/profiles.ts';
import type { BatchObserver, ImageInput } from '../inference/types.ts';
import { CostFreeAnalyzer, frameOrigin, WholeFrameAnalyzer } from '../worker/index.ts';
import { reuseSettings } from '../inference/analyzers/reuse.ts';
import { ensureFaceApiModels } from '../models/faceapi/convert.ts';
import { compactExpression, compactExpressionDirs } from '../models/compact-expression.ts';

export const ANALYZER_KINDS = ['faces', 'whole-frame', 'cost-free'] as const;
export type AnalyzerKind = (typeof ANALYZER_KINDS)[number];

/** Where `fer-stream models fetch` installs the expression ViT under the models directory. */
export const DEFAULT_MODEL = 'vit-fer';

/** The --analyzer value; undefined when not given (createFrameAnalyzer then decides from the other options). */
export function parseAnalyzerKind(value: string | undefined): AnalyzerKind | undefined {
  if (value === undefined) return undefined;
  if (!(ANALYZER_KINDS as readonly string[]).includes(value))
    throw new FerError('invalid_choice', `--analyzer must be one of ${ANALYZER_KINDS.join(', ')}, got "${value}"`);
  return value as AnalyzerKind;
}

/**
 * Faces mode unless told otherwise: --analyzer (--no-detect = whole-frame) or FER_DETECT=false.
 * A --model DIR chooses the expression model and keeps face detection: a talking head is never
 * classified as if the whole frame were its face.
 */
export function resolveAnalyzerKind(options: {
  kind?: AnalyzerKind | undefined;
  profile?: string | undefined;
  config: Config;
}): AnalyzerKind {
  if (options.kind !== undefined) return options.kind;
  if (options.profile !== undefined) return 'faces';
  return options.config.faces.detect ? 'faces' : 'whole-frame';
}

/**
 * Logs every inference batch at debug level with the videos its frames came from, so batch
 * composition across jobs and videos is visible (LOG_LEVEL=debug).
 */
export function batchLogger(logger: Logger): BatchObserver<ImageInput> {
  return {
    onBatch(event) {
      if (!logger.isLevelEnabled('debug')) return;
      const frames = event.requests
        .map((r) => (r instanceof Uint8Array ? undefined : frameOrigin(r as RgbImage)))
        .filter((o) => o !== undefined);
      logger.debug(
        {
          batch: {
            size: event.size,
            runMs: Math.round(event.runMs),
            maxQueueMs: Math.round(Math.max(0, ...event.queueMs)),
            videos: [...new Set(frames.map((f) => f.videoId))],
            frames: frames.map((f) => `${f.videoId}#${f.index}`),
          },
        },
        'inference batch',
      );
    },
  };
}

export async function createFrameAnalyzer(options: {
  kind?: AnalyzerKind | undefined;
  config: Config;
  /** The expression model directory (several: an ensemble averaging their probabilities). */
  modelDir?: string | readonly string[];
  /** Average each face with its mirror image (test-time flip averaging). */
  flip?: boolean;
  /** compact, vit or auto (faces mode); default FER_PROFILE. */
  profile?: string | undefined;
  /** Told which profile faces mode uses and why (the CLI prints it when auto chose). */
  onProfile?: (choice: ProfileChoice) => void;
  logger: Logger;
  observer?: PipelineObserver;
  /** cost-free only: simulated inference time per batch (slow workers for fault tests and benches). */
  costFreeBatchDelayMs?: number;
}): Promise<FrameAnalyzer> {
  const batchObserver = batchLogger(options.logger);
  const kind = resolveAnalyzerKind(options);
  if (kind === 'faces') {
    const firstDir = typeof options.modelDir === 'string' ? options.modelDir : options.modelDir?.[0];
    const choice = await chooseProfile(options.config, options.profile, firstDir).catch((error: Error) => {
      throw new FerError('invalid_choice', error.message, { cause: error });
    });
    options.onProfile?.(choice);
    return createProfileAnalyzer(options.config, choice.profile, {
      prepareFaceApi: ensureFaceApiModels,
      compactExpression: (config) => compactExpression(config),
      logger: options.logger,
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.modelDir ? { classifierDir: options.modelDir } : {}),
      ...(options.flip ? { flip: true } : {}),
    });
  }
  if (kind === 'cost-free') {
    return new CostFreeAnalyzer({
      maxBatchSize: options.config.inference.maxBatchSize,
      maxDelayMs: options.config.inference.maxDelayMs,
      batchObserver,
      ...(options.costFreeBatchDelayMs ? { batchDelayMs: options.costFreeBatchDelayMs } : {}),
    });
  }
  const modelDirs =
    options.modelDir === undefined
      ? [path.join(options.config.modelsDir, DEFAULT_MODEL)]
      : typeof options.modelDir === 'string'
        ? [options.modelDir]
        : options.modelDir;
  // Loaded only here: onnxruntime is not needed (nor loaded) for the cost-free analyzer.
  const { createExpressionClassifier } = await import('../inference/ensemble.ts');
  const classifier = await createExpressionClassifier(modelDirs, {
    flip: options.flip ?? false,
    config: options.config.inference,
    logger: options.logger,
    batchObserver,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  return new WholeFrameAnalyzer(classifier, reuseSettings(options.config.faces));
}

/**
 * The expression model directories of a profile, for whole-image runs without --model (eval
 * --no-detect): the compact profile's converted nets, or the ViT's directory.
 */
export async function profileExpressionDirs(
  config: Config,
  profile: string | undefined,
  onProfile?: (choice: ProfileChoice) => void,
): Promise<string[]> {
  const choice = await chooseProfile(config, profile).catch((error: Error) => {
    throw new FerError('invalid_choice', error.message, { cause: error });
  });
  onProfile?.(choice);
  if (choice.profile === 'vit') return [path.join(config.modelsDir, config.models.vitModel)];
  return compactExpressionDirs(config);
}
