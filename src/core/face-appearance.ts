// What a face looks like, cheaply, so the tracker never joins two people: the colour histogram of
// the middle of the face box (core/colour-signature.ts, 64 bins) followed by its structure, an 8×8
// brightness thumbnail normalised to zero mean and unit spread (so lighting and exposure cancel),
// stored as integers (×32, clamped to ±127). Distance = histogram distance (0..1) + structure
// distance (1 − correlation)/2 (0..1), so 0..2.
// Measured (bench:tracks, BENCHMARKS.md): the same face in consecutive sampled frames — pasted
// faces moving, and the real GRID talking faces at 5 fps — at most 0.42 (p95 0.16); two people at
// the same place at least 0.62, where colour alone ranged down to 0.18 (similar skin and hair).

import { colourHistogram, histogramDistance } from './colour-signature.ts';
import type { Box, RgbImage } from './types.ts';

const HISTOGRAM_BINS = 64;
const THUMB = 8;
/** Samples per thumbnail cell side. */
const CELL_SAMPLES = 3;

/** The appearance of the face in `box` of `image`: 64 histogram counts, then 64 structure values. */
export function faceAppearance(image: RgbImage, box: Box): number[] {
  return [...colourHistogram(image, box), ...structure(image, box)];
}

function structure(image: RgbImage, box: Box): number[] {
  const cells: number[] = [];
  for (let j = 0; j < THUMB; j++) {
    for (let i = 0; i < THUMB; i++) {
      let sum = 0;
      let count = 0;
      for (let sy = 0; sy < CELL_SAMPLES; sy++) {
        for (let sx = 0; sx < CELL_SAMPLES; sx++) {
          const x = Math.min(
            image.width - 1,
            Math.max(0, Math.floor(box.x + ((i + (sx + 0.5) / CELL_SAMPLES) * box.width) / THUMB)),
          );
          const y = Math.min(
            image.height - 1,
            Math.max(0, Math.floor(box.y + ((j + (sy + 0.5) / CELL_SAMPLES) * box.height) / THUMB)),
          );
          const p = (y * image.width + x) * 3;
          sum += 0.299 * image.data[p]! + 0.587 * image.data[p + 1]! + 0.114 * image.data[p + 2]!;
          count++;
        }
      }
      cells.push(sum / count);
    }
  }
  const mean = cells.reduce((s, v) => s + v, 0) / cells.length;
  const spread = Math.sqrt(cells.reduce((s, v) => s + (v - mean) ** 2, 0) / cells.length) || 1;
  return cells.map((v) => Math.max(-127, Math.min(127, Math.round(((v - mean) / spread) * 32))));
}

/**
 * 0 (alike) … 2 (nothing in common). Appearances of 64 values (histogram only, results stored before the structure
 * part) compare by colour alone.
 */
export function appearanceDistance(a: readonly number[], b: readonly number[]): number {
  const colour = histogramDistance(a.slice(0, HISTOGRAM_BINS), b.slice(0, HISTOGRAM_BINS));
  if (a.length < HISTOGRAM_BINS * 2 || b.length < HISTOGRAM_BINS * 2) return colour;
  return colour + structureDistance(a.slice(HISTOGRAM_BINS), b.slice(HISTOGRAM_BINS));
}

/** (1 − Pearson correlation) / 2 of two structure vectors: 0 same, 0.5 unrelated, 1 inverted. */
function structureDistance(a: readonly number[], b: readonly number[]): number {
  const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  if (aa === 0 || bb === 0) return aa === bb ? 0 : 0.5;
  return (1 - ab / Math.sqrt(aa * bb)) / 2;
}
