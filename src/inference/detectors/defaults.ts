// fer-stream's default score threshold per detector, measured by `npm run bench:detect`
// (BENCHMARKS.md): for each detector, the threshold with the best recall at no more than 1 false
// face per 100 no-face frames and at least 99 % precision. The publishers' reference thresholds
// stay in each detector.json (they are what the parity tests check); FER_DETECTOR_SCORE_THRESHOLD
// overrides both. face-api's tiny detector meets neither bar at any threshold (it invents faces
// in test patterns): it keeps its reference and, in the compact profile, BlazeFace's check.

const MEASURED_THRESHOLDS: Readonly<Record<string, number>> = {
  'ultraface-rfb-320': 0.4,
  'ultraface-rfb-640': 0.7,
  'yunet-2023mar': 0.5,
  // At each frame's own size (its default input); at a fixed 320×320 (FER_DETECTOR_INPUT_SIZE) 0.6.
  'yunet-s-dynamic': 0.5,
  'blazeface-front': 0.8,
  'blazeface-back': 0.6,
};

/** The threshold to run `detector` at: the configured one, else the measured default, else (undefined) the model's reference. */
export function detectorThreshold(detector: string, configured: number | undefined, fixedInput?: string): number | undefined {
  if (configured !== undefined) return configured;
  if (detector === 'yunet-s-dynamic' && fixedInput !== undefined) return fixedInput === '640x640' ? 0.5 : 0.6;
  return MEASURED_THRESHOLDS[detector];
}
