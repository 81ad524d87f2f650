// The `--no-detect` flag the analyzing commands share (whole-frame mode, for inputs that are
// already face crops). The tracker they assemble is src/app/tracking.ts.

import type { AnalyzerKind } from '../app/frame-analyzer.ts';
import { UsageError } from './args.ts';

export const NO_DETECT_OPTION = { 'no-detect': { type: 'boolean' } } as const;
export const NO_DETECT_USAGE =
  '  --no-detect      whole-frame mode: classify each frame as one face (inputs that are already face crops; = FER_DETECT=false)';

/** --no-detect means whole-frame analysis; it contradicts any other --analyzer. */
export function applyNoDetect<K extends AnalyzerKind | undefined>(
  kind: K,
  noDetect: boolean | undefined,
): K | 'whole-frame' {
  if (!noDetect) return kind;
  if (kind !== undefined && kind !== 'whole-frame')
    throw new UsageError(`--no-detect means whole-frame analysis; it cannot be combined with --analyzer ${kind}`);
  return 'whole-frame';
}
