// Runs test/inference/preprocess/pil_reference.py (Python + PIL + numpy, the reference
// implementation of ViTImageProcessor's preprocessing) and compares tensors.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PreprocessorConfig } from '../../../src/inference/types.ts';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pil_reference.py');
// Debian's python3-pil / python3-numpy (installed by .ci/run): always the system interpreter.
const python = '/usr/bin/python3';

/** The seed model's preprocessor_config.json (ViTImageProcessor, 224x224, bilinear, mean = std = 0.5). */
export const SEED_CONFIG: PreprocessorConfig = {
  image_processor_type: 'ViTImageProcessor',
  do_resize: true,
  size: { height: 224, width: 224 },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
};

/** Writes the generated test images into `dir`; returns their file names. */
export function generateImages(dir: string): string[] {
  return execFileSync(python, [script, 'generate', dir], { encoding: 'utf8' }).trim().split('\n');
}

export interface ReferenceItem {
  readonly src: string;
  readonly dst: string;
  /** Reference takes the high byte of 16-bit grey instead of PIL's clipping (our documented choice). */
  readonly grey16_high_byte?: boolean;
}

/** Computes the reference tensors of all items in one Python run; returns them in order. */
export function referenceTensors(config: PreprocessorConfig, items: readonly ReferenceItem[]): Float32Array[] {
  execFileSync(python, [script, 'reference'], {
    input: JSON.stringify({ config, items }),
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  return items.map((item) => {
    const bytes = readFileSync(item.dst);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  });
}

export interface Difference {
  readonly mad: number;
  readonly max: number;
}

export function difference(a: Float32Array, b: Float32Array): Difference {
  if (a.length !== b.length) throw new Error(`tensor lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { mad: sum / a.length, max };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
