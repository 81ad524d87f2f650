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

// The measured figures live with each model (families/*/index.ts: measuredThreshold, secondLook).

import { detectorModel } from './families/index.ts';
import type { SecondLook } from './family.ts';

export type { SecondLook } from './family.ts';
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
  const model = detectorModel(detector)?.model;
  const measured = fixedInput === undefined || fixedInput === '640x640' ? model?.secondLook : undefined;
  if (setting.choice === 'auto' && measured === undefined) return null;
  const base = measured ?? {
    ...GENERIC_SECOND_LOOK,
    confirmer: setting.choice as SecondLook['confirmer'],
    threshold: model?.measuredThreshold ?? 0.5,
  };
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
export function detectorThreshold(
  detector: string,
  configured: number | undefined,
  fixedInput?: string,
  secondLook?: SecondLook | null,
): number | undefined {
  if (configured !== undefined) return configured;
  if (secondLook) return secondLook.threshold;
  const model = detectorModel(detector)?.model;
  if (fixedInput !== undefined && model?.thresholdAtFixedInput) return model.thresholdAtFixedInput(fixedInput);
  return model?.measuredThreshold;
}
