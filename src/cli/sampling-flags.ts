// The flags that say which frames of a video are sampled, shared by `analyze` and `submit`:
// --fps, --start, --end and --max-frames, checked here with the limits the pipeline applies.

import { numberOption } from './args.ts';

/** parseArgs options of the sampling flags. */
export const SAMPLING_FLAGS = {
  fps: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  'max-frames': { type: 'string' },
} as const;

export interface SamplingFlagValues {
  readonly fps?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  readonly 'max-frames'?: string | undefined;
}

/** The sampling the flags ask for: only the ones given (usage errors for bad values). */
export function samplingChoice(values: SamplingFlagValues): {
  fps?: number;
  startSeconds?: number;
  endSeconds?: number;
  maxFrames?: number;
} {
  const fps = numberOption('fps', values.fps, (n) => n > 0 && n <= 240, 'a number in (0, 240]');
  const startSeconds = numberOption('start', values.start, (n) => n >= 0, 'a number of seconds ≥ 0');
  const endSeconds = numberOption(
    'end',
    values.end,
    (n) => n > (startSeconds ?? 0),
    'a number of seconds after --start',
  );
  const maxFrames = numberOption(
    'max-frames',
    values['max-frames'],
    (n) => Number.isInteger(n) && n >= 1,
    'a positive integer',
  );
  return Object.fromEntries(
    Object.entries({ fps, startSeconds, endSeconds, maxFrames }).filter(([, v]) => v !== undefined),
  );
}
