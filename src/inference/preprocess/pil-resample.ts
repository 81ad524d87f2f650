// Pillow's `Image.resize` for 8-bit RGB, reproduced integer for integer (Pillow's Resample.c):
// separable convolution, horizontal pass first (into an 8-bit image, as Pillow does), then
// vertical. When downscaling, the filter's support is stretched by the reduction factor, which
// makes every filter antialiased; coefficients are normalised per output pixel and quantised to
// 22-bit fixed point, and each pass rounds and clamps to 0..255. NEAREST goes through Pillow's
// affine path instead (ImagingScaleAffine).

import type { RgbImage } from '../../core/types.ts';

/** Pillow's resample ids (PIL.Image.Resampling). */
export const PIL_FILTERS = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 } as const;

interface Filter {
  readonly support: number;
  readonly weight: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const CONVOLUTION_FILTERS: Readonly<Record<number, Filter>> = {
  [PIL_FILTERS.box]: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [PIL_FILTERS.bilinear]: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  [PIL_FILTERS.hamming]: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (0.54 + 0.46 * Math.cos(px));
    },
  },
  [PIL_FILTERS.bicubic]: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  [PIL_FILTERS.lanczos]: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

export const SUPPORTED_RESAMPLE_FILTERS: readonly number[] = [PIL_FILTERS.nearest, ...Object.keys(CONVOLUTION_FILTERS).map(Number)].sort();

const PRECISION_BITS = 32 - 8 - 2;
const ROUNDING = 1 << (PRECISION_BITS - 1);

/** Per output pixel: first input index, number of taps, and `ksize` fixed-point weights. */
interface Coefficients {
  readonly ksize: number;
  readonly bounds: Int32Array;
  readonly weights: Int32Array;
}

function precomputeCoefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const taps = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // Math.trunc: C's (int) cast; negative values are clamped to 0 right after either way.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) / filterScale);
      taps[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = sum !== 0 ? taps[x]! / sum : taps[x]!;
      // Pillow rounds half away from zero: (int)(±0.5 + k * 2^22).
      weights[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/** Horizontal pass over rows [firstRow, firstRow + rows) of `src` into a new width. */
function resampleHorizontal(src: RgbImage, firstRow: number, rows: number, outWidth: number, c: Coefficients): Uint8ClampedArray {
  // Uint8ClampedArray clamps the integer results to 0..255 like Pillow's clip8.
  const out = new Uint8ClampedArray(outWidth * rows * 3);
  const { ksize, bounds, weights } = c;
  const data = src.data;
  const inStride = src.width * 3;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowStart = (y + firstRow) * inStride;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = bounds[xx * 2]!;
      const n = bounds[xx * 2 + 1]!;
      const kOff = xx * ksize;
      let s0 = ROUNDING;
      let s1 = ROUNDING;
      let s2 = ROUNDING;
      let p = rowStart + xmin * 3;
      for (let x = 0; x < n; x++) {
        const k = weights[kOff + x]!;
        s0 += data[p]! * k;
        s1 += data[p + 1]! * k;
        s2 += data[p + 2]! * k;
        p += 3;
      }
      out[o++] = s0 >> PRECISION_BITS;
      out[o++] = s1 >> PRECISION_BITS;
      out[o++] = s2 >> PRECISION_BITS;
    }
  }
  return out;
}

/** Vertical pass; `c.bounds` are relative to the first row of `src`. */
function resampleVertical(src: Uint8Array | Uint8ClampedArray, width: number, outHeight: number, c: Coefficients, rowOffset: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * outHeight * 3);
  const { ksize, bounds, weights } = c;
  const stride = width * 3;
  let o = 0;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2]! - rowOffset;
    const n = bounds[yy * 2 + 1]!;
    const kOff = yy * ksize;
    for (let xx = 0; xx < stride; xx += 3) {
      let s0 = ROUNDING;
      let s1 = ROUNDING;
      let s2 = ROUNDING;
      let p = ymin * stride + xx;
      for (let y = 0; y < n; y++) {
        const k = weights[kOff + y]!;
        s0 += src[p]! * k;
        s1 += src[p + 1]! * k;
        s2 += src[p + 2]! * k;
        p += stride;
      }
      out[o++] = s0 >> PRECISION_BITS;
      out[o++] = s1 >> PRECISION_BITS;
      out[o++] = s2 >> PRECISION_BITS;
    }
  }
  return out;
}

/** Pillow's NEAREST resize: affine scaling with accumulated source coordinates, truncated. */
function resizeNearest(src: RgbImage, width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 3);
  const sx = src.width / width;
  const sy = src.height / height;
  const xin = new Int32Array(width);
  let xo = sx * 0.5;
  for (let x = 0; x < width; x++) {
    xin[x] = Math.min(Math.trunc(xo), src.width - 1);
    xo += sx;
  }
  let yo = sy * 0.5;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = Math.min(Math.trunc(yo), src.height - 1) * src.width * 3;
    for (let x = 0; x < width; x++) {
      const p = row + xin[x]! * 3;
      out[o++] = src.data[p]!;
      out[o++] = src.data[p + 1]!;
      out[o++] = src.data[p + 2]!;
    }
    yo += sy;
  }
  return out;
}

function bytes(a: Uint8ClampedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.length);
}

/**
 * Resizes interleaved 8-bit RGB exactly as Pillow's `Image.resize((width, height), resample)`
 * does for an RGB image. Returns `src` itself when the size is unchanged (Pillow copies).
 */
export function pilResize(src: RgbImage, width: number, height: number, resample: number): RgbImage {
  if (src.width === width && src.height === height) return src;
  if (resample === PIL_FILTERS.nearest) return { data: bytes(resizeNearest(src, width, height)), width, height };
  const filter = CONVOLUTION_FILTERS[resample];
  if (filter === undefined) throw new Error(`unsupported resample filter ${resample} (supported: ${SUPPORTED_RESAMPLE_FILTERS.join(', ')})`);
  const needHorizontal = src.width !== width;
  const needVertical = src.height !== height;
  const horiz = precomputeCoefficients(src.width, width, filter);
  const vert = precomputeCoefficients(src.height, height, filter);
  if (!needVertical) {
    return { data: bytes(resampleHorizontal(src, 0, src.height, width, horiz)), width, height };
  }
  if (!needHorizontal) {
    return { data: bytes(resampleVertical(src.data, width, height, vert, 0)), width, height };
  }
  // Only the rows the vertical pass reads go through the horizontal pass.
  const firstRow = vert.bounds[0]!;
  const lastRow = vert.bounds[height * 2 - 2]! + vert.bounds[height * 2 - 1]!;
  const temp = resampleHorizontal(src, firstRow, lastRow - firstRow, width, horiz);
  return { data: bytes(resampleVertical(temp, width, height, vert, firstRow)), width, height };
}
