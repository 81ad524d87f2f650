import { z } from 'zod';
import { envBoolean, int, num } from './env.ts';

/**
 * Face detection, crops, tracking and model fetching. Documented in docs/configuration.md.
 * Unset score threshold: the detector's measured default (src/inference/detectors/defaults.ts),
 * else its model's reference; unset NMS IoU / input size: the model's (its detector.json).
 */
export const facesSchema = z.object({
  /** Detect faces and classify each one; false = whole-frame mode (inputs that are already face crops). */
  detect: envBoolean.default(true),
  /** The vit profile's detector: a model directory under the models directory (default chosen by bench:detect). */
  detector: z.string().min(1).default('yunet-s-dynamic'),
  /** The compact profile's detector: one that runs from npm alone (default chosen by bench:detect). */
  compactDetector: z
    .enum(['blazeface-back', 'blazeface-front', 'faceapi-tiny-face-detector'])
    .default('blazeface-back'),
  /**
   * Second-stage check: keep a face only if this detector also finds it. `auto`: BlazeFace full
   * range behind face-api's tiny detector (which alone invents faces in test patterns), none
   * otherwise.
   */
  confirmDetector: z.enum(['auto', 'none', 'blazeface-front', 'blazeface-back']).default('auto'),
  /**
   * A second look at doubtful faces: each face scored below `secondLookTrustAbove` is kept only if
   * BlazeFace, run on a crop around it, also finds it (at `secondLookThreshold`). `auto`: the one
   * bench:detect measured for the profile's detector (YuNet: BlazeFace full range; BlazeFace full
   * range: BlazeFace short range), none for other detectors.
   */
  secondLook: z.enum(['auto', 'none', 'blazeface-front', 'blazeface-back']).default('auto'),
  secondLookThreshold: num(0, 1).optional(),
  secondLookTrustAbove: num(0, 2).optional(),
  scoreThreshold: num(0, 1).optional(),
  nmsIou: num(0, 1).optional(),
  /** Faces whose shorter side is below this many working-resolution pixels are ignored. */
  minFaceSize: num(0).default(16),
  maxFacesPerFrame: int(1, 1000).default(20),
  /**
   * Input of dynamic-size detectors (yunet-s-dynamic): `frame` = each frame at its own size
   * (rounded up to 32; no resize), or a fixed `WxH` (multiples of 32) every frame is letterboxed into.
   */
  detectorInputSize: z
    .string()
    .regex(/^(\d+x\d+|frame)$/, 'expected frame or WIDTHxHEIGHT, e.g. 320x320')
    .default('frame'),
  /** Each side of a face box grows by this fraction of the box's longer side before squaring. */
  cropMargin: num(0, 2).default(0.15),
  /**
   * Classifying only what changed (inference/analyzers/reuse.ts): a face unchanged since its last
   * classification reuses it for at most this many sampled frames in a row; 0 = classify every face.
   */
  reuseMaxFrames: int(0, 1000).default(8),
  /** Largest 16×16 grey thumbnail difference (0..1) that counts as unchanged. */
  reuseThreshold: num(0, 1).default(0.01),
  /** Tracker: a face continues a track when its box overlaps the track's last box by at least this IoU. */
  trackIou: num(0, 1).default(0.3),
  /** Tracker: a track survives this many sampled frames without its face before it ends. */
  trackMaxGap: int(0, 1000).default(2),
  /**
   * Tracker: largest appearance distance (0..2: colour histogram + 8×8 structure, core/face-appearance.ts) between a
   * face and its track's last face; 2 = no appearance check.
   */
  trackAppearanceDistance: num(0, 2).default(0.5),
  /**
   * Tracker: sampled frames after a track ends (same scene) during which a face that looks like it resumes it; 0 =
   * never.
   */
  trackReidentifyFrames: int(0, 10_000).default(10),
  /**
   * Persons: an identity descriptor per classified face (face-api's recognition net) and tracks of one person joined
   * across cuts; false = tracks only.
   */
  persons: envBoolean.default(true),
  /**
   * Persons: largest distance between two tracks' mean identity descriptors to call them one person (face-api units;
   * chosen by bench:persons).
   */
  personDistance: num(0, 2).default(0.42),
  /**
   * Scene cuts: consecutive frames whose signatures differ by at least this (0..3, src/results/scenes.ts) begin a new
   * scene; 3 = never.
   */
  cutThreshold: num(0, 3).default(0.4),
  /** Mirror for `models fetch` serving `<family>/<file>`; unset = the publishers' URLs. */
  modelsBaseUrl: z.string().url().optional(),
  fetchRetries: int(0, 20).default(3),
  fetchRetryBaseMs: int(0, 60_000).default(1000),
  fetchIdleTimeoutMs: int(100, 600_000).default(30_000),
});

export type FacesConfig = z.infer<typeof facesSchema>;

export const facesEnv = {
  detect: 'FER_DETECT',
  detector: 'FER_DETECTOR',
  compactDetector: 'FER_COMPACT_DETECTOR',
  confirmDetector: 'FER_DETECTOR_CONFIRM',
  secondLook: 'FER_DETECTOR_SECOND_LOOK',
  secondLookThreshold: 'FER_SECOND_LOOK_THRESHOLD',
  secondLookTrustAbove: 'FER_SECOND_LOOK_TRUST_ABOVE',
  scoreThreshold: 'FER_DETECTOR_SCORE_THRESHOLD',
  nmsIou: 'FER_DETECTOR_NMS_IOU',
  minFaceSize: 'FER_MIN_FACE_SIZE',
  maxFacesPerFrame: 'FER_MAX_FACES_PER_FRAME',
  detectorInputSize: 'FER_DETECTOR_INPUT_SIZE',
  cropMargin: 'FER_FACE_CROP_MARGIN',
  reuseMaxFrames: 'FER_REUSE_MAX_FRAMES',
  reuseThreshold: 'FER_REUSE_THRESHOLD',
  trackIou: 'FER_TRACK_IOU',
  trackMaxGap: 'FER_TRACK_MAX_GAP',
  trackAppearanceDistance: 'FER_TRACK_APPEARANCE_DISTANCE',
  trackReidentifyFrames: 'FER_TRACK_REIDENTIFY_FRAMES',
  persons: 'FER_PERSONS',
  personDistance: 'FER_PERSON_DISTANCE',
  cutThreshold: 'FER_CUT_THRESHOLD',
  modelsBaseUrl: 'FER_MODELS_BASE_URL',
  fetchRetries: 'FER_FETCH_RETRIES',
  fetchRetryBaseMs: 'FER_FETCH_RETRY_BASE_MS',
  fetchIdleTimeoutMs: 'FER_FETCH_IDLE_TIMEOUT_MS',
} as const;
