// fer-stream's defaults per detector, measured by `npm run bench:detect` (BENCHMARKS.md) with the
// rule: the best recall at no more than 1 false face per 100 no-face frames, no more than 1 per 100
// cluttered frames (paintings, landscape photographs, animals, coins, posters, cloth) and at least
// 99 % precision. The publishers' reference thresholds stay in each detector.json (they are what
// the parity tests check); FER_DETECTOR_SCORE_THRESHOLD overrides both. face-api's tiny detector
// meets no bar at any threshold (it invents faces in test patterns): it keeps its reference and, in
// the compact profile, BlazeFace's check.
// Alone, every detector needs a high threshold to stay off the clutter (its false faces there score
// 0.5–0.85); the profiles' detectors instead take a second look at their doubtful faces
// (crop-confirmed-detector.ts) and keep their low thresholds: more faces found at the same bars.

import type { CropCheckSettings } from './crop-confirmed-detector.ts';

/** Each detector alone (FER_DETECTOR_SECOND_LOOK=none, or a detector without a measured second look). */
const MEASURED_THRESHOLDS: Readonly<Record<string, number>> = {
  'ultraface-rfb-320': 0.9,
  'ultraface-rfb-640': 0.8,
  'yunet-2023mar': 0.8,
  // At each frame's own size (its default input) and at a fixed 640×640; at 320×320 0.7.
  'yunet-s-dynamic': 0.8,
  'blazeface-front': 0.8,
  'blazeface-back': 0.7,
};

/** A second look at doubtful faces: which BlazeFace confirms them on a crop, at what score, below which primary score. */
export interface SecondLook extends Pick<CropCheckSettings, 'trustAbove'> {
  readonly confirmer: 'blazeface-front' | 'blazeface-back';
  readonly confirmAt: number;
  /** The primary's threshold with this second look. */
  readonly threshold: number;
}

/** The measured second looks (bench:detect, the profiles' detectors): vit's YuNet at frame size, compact's BlazeFace. */
const MEASURED_SECOND_LOOKS: Readonly<Record<string, SecondLook>> = {
  'yunet-s-dynamic': { confirmer: 'blazeface-back', confirmAt: 0.65, trustAbove: 0.85, threshold: 0.5 },
  'blazeface-back': { confirmer: 'blazeface-front', confirmAt: 0.7, trustAbove: 0.8, threshold: 0.5 },
};
/** For a second look named explicitly on a detector without a measured one. */
const GENERIC_SECOND_LOOK = { confirmAt: 0.65, trustAbove: 0.85 } as const;

export interface SecondLookSetting {
  /** auto: the measured one where there is one (at the detector's default input); none; or the confirmer to use. */
  readonly choice: 'auto' | 'none' | 'blazeface-front' | 'blazeface-back';
  readonly confirmAt?: number;
  readonly trustAbove?: number;
}

/** The second look `detector` runs with, or null for none. */
export function secondLookFor(detector: string, setting: SecondLookSetting, fixedInput?: string): SecondLook | null {
  if (setting.choice === 'none') return null;
  const measured = fixedInput === undefined || fixedInput === '640x640' ? MEASURED_SECOND_LOOKS[detector] : undefined;
  if (setting.choice === 'auto' && measured === undefined) return null;
  const base = measured ?? { ...GENERIC_SECOND_LOOK, confirmer: setting.choice as SecondLook['confirmer'], threshold: MEASURED_THRESHOLDS[detector] ?? 0.5 };
  return {
    ...base,
    ...(setting.choice !== 'auto' ? { confirmer: setting.choice } : {}),
    ...(setting.confirmAt !== undefined ? { confirmAt: setting.confirmAt } : {}),
    ...(setting.trustAbove !== undefined ? { trustAbove: setting.trustAbove } : {}),
  };
}

/**
 * The threshold to run `detector` at: the configured one, else the measured default (with its second
 * look where it has one), else (undefined) the model's reference.
 */
export function detectorThreshold(detector: string, configured: number | undefined, fixedInput?: string, secondLook?: SecondLook | null): number | undefined {
  if (configured !== undefined) return configured;
  if (secondLook) return secondLook.threshold;
  if (detector === 'yunet-s-dynamic' && fixedInput !== undefined) return fixedInput === '640x640' ? 0.8 : 0.7;
  return MEASURED_THRESHOLDS[detector];
}
