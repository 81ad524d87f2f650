// One `fer-stream analyze` of one video for bench:reuse, its faces flattened.

import type { Box } from '../../src/core/types.ts';
import { runAnalyze } from '../pipeline/measure.ts';

export interface FaceRow {
  readonly frame: number;
  readonly box: Box;
  readonly label: string;
  readonly reused: boolean;
}

export async function analyzeResults(
  video: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ faces: FaceRow[]; seconds: number }> {
  const [result] = (await runAnalyze([video], args, env)).results;
  return {
    faces: result!.frames.flatMap((f) =>
      f.faces.map((face) => ({ frame: f.index, box: face.box, label: face.label, reused: face.reused === true })),
    ),
    seconds: result!.timings.processingMs / 1000,
  };
}
