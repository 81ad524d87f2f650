// The tracker that links faces across a video's frames at aggregation, assembled from the
// configuration (only where a detector found the faces; whole-frame "faces" need no tracks).

import type { Config } from '../config/index.ts';
import type { FrameAnalyzer } from '../core/types.ts';
import { faceTracker, type TrackerOptions } from '../results/index.ts';
import type { FinalizeOptions } from '../worker/aggregator.ts';

/** Aggregation options for a worker running `analyzer`: the face tracker when it detects faces. */
export function trackingFor(
  analyzer: FrameAnalyzer,
  config: Config,
): Pick<FinalizeOptions, 'assignTracks' | 'cutThreshold'> {
  if (!analyzer.info.detector) return { cutThreshold: config.faces.cutThreshold };
  return { assignTracks: tracker(config), cutThreshold: config.faces.cutThreshold };
}

/** The faces tracker with the configured thresholds. */
export function tracker(config: Config): NonNullable<FinalizeOptions['assignTracks']> {
  return faceTracker(trackerOptions(config));
}

/**
 * FER_TRACK_IOU, FER_TRACK_MAX_GAP, FER_TRACK_APPEARANCE_DISTANCE, FER_TRACK_REIDENTIFY_FRAMES, FER_PERSONS,
 * FER_PERSON_DISTANCE as tracker options.
 */
export function trackerOptions(config: Config): TrackerOptions {
  const { trackIou, trackMaxGap, trackAppearanceDistance, trackReidentifyFrames, persons, personDistance } =
    config.faces;
  return {
    iouThreshold: trackIou,
    maxGap: trackMaxGap,
    maxAppearanceDistance: trackAppearanceDistance,
    reidentifyWithin: trackReidentifyFrames,
    ...(persons ? { persons: { maxDistance: personDistance } } : {}),
  };
}
