// Small colour signatures of images and image regions, cheap enough to compute for every sampled
// frame and every face: a coarse RGB histogram (4 levels per channel, 64 bins) and an 8×8
// brightness thumbnail, from at most a few hundred sampled pixels. Scene cuts are found by
// comparing consecutive frames' signatures, and the tracker refuses to join two faces whose
// colours differ (src/results). Integers, so they store compactly as JSON.

import type { Box, FrameSignature, RgbImage } from './types.ts';

export type { FrameSignature };

/** Pixels sampled per signature (a grid over the region). */
const SAMPLES_PER_SIDE = 24;

/** Colour histogram (64 bins, counts) of `region` (default: the whole image), from a grid of sampled pixels. */
export function colourHistogram(image: RgbImage, region?: Box): number[] {
  const { x0, y0, x1, y1 } = clamp(image, region);
  const bins = new Array<number>(64).fill(0);
  const stepX = Math.max(1, (x1 - x0) / SAMPLES_PER_SIDE);
  const stepY = Math.max(1, (y1 - y0) / SAMPLES_PER_SIDE);
  for (let y = y0 + stepY / 2; y < y1; y += stepY) {
    for (let x = x0 + stepX / 2; x < x1; x += stepX) {
      const p = (Math.floor(y) * image.width + Math.floor(x)) * 3;
      bins[((image.data[p]! >> 6) << 4) | ((image.data[p + 1]! >> 6) << 2) | (image.data[p + 2]! >> 6)]! += 1;
    }
  }
  return bins;
}

/** The whole frame's signature: histogram and 8×8 brightness thumbnail. */
export function frameSignature(image: RgbImage): FrameSignature {
  const thumbnail = new Array<number>(64).fill(0);
  const counts = new Array<number>(64).fill(0);
  const stepX = Math.max(1, image.width / (SAMPLES_PER_SIDE * 2));
  const stepY = Math.max(1, image.height / (SAMPLES_PER_SIDE * 2));
  for (let y = stepY / 2; y < image.height; y += stepY) {
    for (let x = stepX / 2; x < image.width; x += stepX) {
      const p = (Math.floor(y) * image.width + Math.floor(x)) * 3;
      const cell = Math.min(7, Math.floor((y / image.height) * 8)) * 8 + Math.min(7, Math.floor((x / image.width) * 8));
      thumbnail[cell]! += 0.299 * image.data[p]! + 0.587 * image.data[p + 1]! + 0.114 * image.data[p + 2]!;
      counts[cell]! += 1;
    }
  }
  return {
    histogram: colourHistogram(image),
    thumbnail: thumbnail.map((sum, i) => Math.round(sum / Math.max(1, counts[i]!))),
  };
}

/** Total-variation distance between two histograms (0: same colours … 1: no colour in common). */
export function histogramDistance(a: readonly number[], b: readonly number[]): number {
  const totalA = a.reduce((s, v) => s + v, 0) || 1;
  const totalB = b.reduce((s, v) => s + v, 0) || 1;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! / totalA - (b[i] ?? 0) / totalB);
  return sum / 2;
}

/** Mean absolute difference of two brightness thumbnails, 0..1. */
export function thumbnailDistance(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - (b[i] ?? 0));
  return sum / (a.length * 255);
}

function clamp(image: RgbImage, region: Box | undefined): { x0: number; y0: number; x1: number; y1: number } {
  if (!region) return { x0: 0, y0: 0, x1: image.width, y1: image.height };
  const x0 = Math.max(0, Math.min(image.width - 1, region.x));
  const y0 = Math.max(0, Math.min(image.height - 1, region.y));
  return {
    x0,
    y0,
    x1: Math.max(x0 + 1, Math.min(image.width, region.x + region.width)),
    y1: Math.max(y0 + 1, Math.min(image.height, region.y + region.height)),
  };
}
