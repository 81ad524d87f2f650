// The flags that choose what analyses frames, shared by the analyzing commands (analyze, worker,
// serve): --analyzer, --profile, --model, --batch-delay-ms and --no-detect (whole-frame mode, for
// inputs that are already face crops). src/app/frame-analyzer.ts assembles the analyzer they name.

import { parseAnalyzerKind, type AnalyzerKind } from '../app/frame-analyzer.ts';
import { numberOption, UsageError } from './args.ts';

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

/** parseArgs options of the analyzer flags. */
export const ANALYZER_FLAGS = {
  analyzer: { type: 'string' },
  profile: { type: 'string' },
  model: { type: 'string' },
  'batch-delay-ms': { type: 'string' },
  ...NO_DETECT_OPTION,
} as const;

export interface AnalyzerFlagValues {
  readonly analyzer?: string | undefined;
  readonly profile?: string | undefined;
  readonly model?: string | undefined;
  readonly 'batch-delay-ms'?: string | undefined;
  readonly 'no-detect'?: boolean | undefined;
}

/** The analyzer the flags choose, as createFrameAnalyzer's options (usage errors for bad values). */
export function analyzerChoice(values: AnalyzerFlagValues): {
  kind: AnalyzerKind | undefined;
  profile: string | undefined;
  modelDir?: string;
  costFreeBatchDelayMs?: number;
} {
  const kind = applyNoDetect(parseAnalyzerKind(values.analyzer), values['no-detect']);
  const batchDelayMs = numberOption(
    'batch-delay-ms',
    values['batch-delay-ms'],
    (n) => Number.isInteger(n) && n >= 0,
    'an integer ≥ 0',
  );
  return {
    kind,
    profile: values.profile,
    ...(values.model ? { modelDir: values.model } : {}),
    ...(batchDelayMs !== undefined ? { costFreeBatchDelayMs: batchDelayMs } : {}),
  };
}
