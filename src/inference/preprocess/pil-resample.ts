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

export const SUPPORTED_RESAMPLE_FILTERS: readonly number[] = [
  PIL_FILTERS.nearest,
  ...Object.keys(CONVOLUTION_FILTERS).map(Number),
].sort();

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
      weights[xx * ksize + x] =
        k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/**
 * One resampling pass, runnable in slices of output rows so a large image need not hold the
 * event loop for the whole resize. `cost` is the work of one output row (pixels × taps).
 */
interface Pass {
  readonly rows: number;
  readonly cost: number;
  run(from: number, to: number): void;
}

// Every buffer is handled as a Uint8ClampedArray (views, no copies): the clamped store is
// Pillow's clip8, and one element type keeps the hot loops monomorphic.
function clamped(data: Uint8Array | Uint8ClampedArray): Uint8ClampedArray {
  return data instanceof Uint8ClampedArray ? data : new Uint8ClampedArray(data.buffer, data.byteOffset, data.length);
}

/** Horizontal pass: rows [firstRow, firstRow + out rows) of `src` (width `inWidth`) into `out`. */
function horizontalPass(
  src: Uint8ClampedArray,
  inWidth: number,
  firstRow: number,
  out: Uint8ClampedArray,
  outWidth: number,
  c: Coefficients,
): Pass {
  const { ksize, bounds, weights } = c;
  const inStride = inWidth * 3;
  return {
    rows: out.length / (outWidth * 3),
    cost: outWidth * ksize,
    run(from, to) {
      let o = from * outWidth * 3;
      for (let y = from; y < to; y++) {
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
            s0 += src[p]! * k;
            s1 += src[p + 1]! * k;
            s2 += src[p + 2]! * k;
            p += 3;
          }
          out[o++] = s0 >> PRECISION_BITS;
          out[o++] = s1 >> PRECISION_BITS;
          out[o++] = s2 >> PRECISION_BITS;
        }
      }
    },
  };
}

/** Vertical pass into `out` (height = out rows); `c.bounds` minus `rowOffset` index rows of `src`. */
function verticalPass(
  src: Uint8ClampedArray,
  width: number,
  out: Uint8ClampedArray,
  c: Coefficients,
  rowOffset: number,
): Pass {
  const { ksize, bounds, weights } = c;
  const stride = width * 3;
  return {
    rows: out.length / stride,
    cost: width * ksize,
    run(from, to) {
      let o = from * stride;
      for (let yy = from; yy < to; yy++) {
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
    },
  };
}

/** Pillow's NEAREST resize: affine scaling with accumulated source coordinates, truncated. */
function nearestPass(src: RgbImage, out: Uint8ClampedArray, width: number, height: number): Pass {
  const sx = src.width / width;
  const sy = src.height / height;
  const xin = new Int32Array(width);
  let xo = sx * 0.5;
  for (let x = 0; x < width; x++) {
    xin[x] = Math.min(Math.trunc(xo), src.width - 1);
    xo += sx;
  }
  const rowsIn = new Int32Array(height);
  let yo = sy * 0.5;
  for (let y = 0; y < height; y++) {
    rowsIn[y] = Math.min(Math.trunc(yo), src.height - 1);
    yo += sy;
  }
  return {
    rows: height,
    cost: width,
    run(from, to) {
      let o = from * width * 3;
      for (let y = from; y < to; y++) {
        const row = rowsIn[y]! * src.width * 3;
        for (let x = 0; x < width; x++) {
          const p = row + xin[x]! * 3;
          out[o++] = src.data[p]!;
          out[o++] = src.data[p + 1]!;
          out[o++] = src.data[p + 2]!;
        }
      }
    },
  };
}

interface ResizePlan {
  readonly passes: readonly Pass[];
  readonly result: RgbImage;
}

function planResize(src: RgbImage, width: number, height: number, resample: number): ResizePlan {
  const outData = new Uint8ClampedArray(width * height * 3);
  const result: RgbImage = { data: new Uint8Array(outData.buffer), width, height };
  if (resample === PIL_FILTERS.nearest) return { passes: [nearestPass(src, outData, width, height)], result };
  const filter = CONVOLUTION_FILTERS[resample];
  if (filter === undefined)
    throw new Error(`unsupported resample filter ${resample} (supported: ${SUPPORTED_RESAMPLE_FILTERS.join(', ')})`);
  const input = clamped(src.data);
  const horiz = precomputeCoefficients(src.width, width, filter);
  const vert = precomputeCoefficients(src.height, height, filter);
  if (src.height === height) return { passes: [horizontalPass(input, src.width, 0, outData, width, horiz)], result };
  if (src.width === width) return { passes: [verticalPass(input, width, outData, vert, 0)], result };
  // Only the rows the vertical pass reads go through the horizontal pass (into 8 bits, as Pillow).
  const firstRow = vert.bounds[0]!;
  const lastRow = vert.bounds[height * 2 - 2]! + vert.bounds[height * 2 - 1]!;
  const temp = new Uint8ClampedArray(width * (lastRow - firstRow) * 3);
  return {
    passes: [
      horizontalPass(input, src.width, firstRow, temp, width, horiz),
      verticalPass(temp, width, outData, vert, firstRow),
    ],
    result,
  };
}

/**
 * Resizes interleaved 8-bit RGB exactly as Pillow's `Image.resize((width, height), resample)`
 * does for an RGB image. Returns `src` itself when the size is unchanged (Pillow copies).
 */
export function pilResize(src: RgbImage, width: number, height: number, resample: number): RgbImage {
  if (src.width === width && src.height === height) return src;
  const { passes, result } = planResize(src, width, height, resample);
  for (const pass of passes) pass.run(0, pass.rows);
  return result;
}

/** Work (pixels × taps) between two yields: a few milliseconds of the event loop at most. */
const DEFAULT_SLICE_COST = 1 << 19;

/**
 * pilResize that yields to the event loop between slices of rows: resizing a 12-megapixel
 * photo takes tens of milliseconds of JavaScript, which must not stall a busy worker's loop.
 * The result is identical to pilResize.
 */
export async function pilResizeAsync(
  src: RgbImage,
  width: number,
  height: number,
  resample: number,
  sliceCost = DEFAULT_SLICE_COST,
): Promise<RgbImage> {
  if (src.width === width && src.height === height) return src;
  const { passes, result } = planResize(src, width, height, resample);
  for (const pass of passes) {
    const rowsPerSlice = Math.max(1, Math.floor(sliceCost / pass.cost));
    for (let from = 0; from < pass.rows; from += rowsPerSlice) {
      pass.run(from, Math.min(from + rowsPerSlice, pass.rows));
      if (from + rowsPerSlice < pass.rows) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return result;
}
