// The compact profile's expression model as directories: `faceapi` (face-api's net) and
// `mini-xception` (human-models' FER2013 mini-Xception), converted from their npm packages on
// first use, joined by '+' into an averaged ensemble; '+flip' adds the mirror image of each face.

import type { Config } from '../config/index.ts';
import { ensureFaceApiModels } from './faceapi/convert.ts';
import { ensureMiniXception } from './human/convert.ts';

export interface CompactExpression {
  readonly dirs: readonly string[];
  readonly flip: boolean;
}

/** Parses FER_COMPACT_EXPRESSION and converts its nets where they are missing or stale. */
export async function compactExpression(config: Config, onBuild?: (dir: string) => void): Promise<CompactExpression> {
  const parts = config.models.compactExpression.split('+');
  const flip = parts.at(-1) === 'flip';
  const nets = flip ? parts.slice(0, -1) : parts;
  const dirs: string[] = [];
  for (const net of nets) {
    if (net === 'faceapi')
      dirs.push((await ensureFaceApiModels(config.modelsDir, (p) => onBuild?.(p.expressionDir))).expressionDir);
    else dirs.push(await ensureMiniXception(config.modelsDir, onBuild));
  }
  return { dirs, flip };
}

/** The directories alone (whole-image runs that choose flip themselves). */
export async function compactExpressionDirs(config: Config): Promise<string[]> {
  return [...(await compactExpression(config)).dirs];
}
