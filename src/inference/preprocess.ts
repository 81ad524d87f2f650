// Image preprocessing for image-classification models, driven by the model directory's
// `preprocessor_config.json` (PreprocessorConfig) and faithful to Hugging Face's
// ViTImageProcessor in Python (PIL), which is what the seed model saw in training.
//
//   const n = preprocessedLength(config);            // floats per image (3·H·W)
//   const batch = new Float32Array(n * images.length);
//   await preprocessInto(images[i], config, batch, i * n, { maxPixels });
//
// Steps: decode (sharp; EXIF orientation applied; alpha dropped; greyscale replicated; ICC
// profiles ignored and CMYK converted naively, as PIL's convert('RGB') — see preprocess/decode.ts)
// → optional pad_to_square (centred, black) → resize with Pillow's own algorithm (exact integer
// reproduction of Image.resize, antialiased when downscaling; preprocess/pil-resample.ts) →
// rescale, normalise, channel order, written straight into `out` as C×H×W at `offset`.
// Input: an encoded file (JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF) or raw RGB (RgbImage: ffmpeg
// frames, face crops). Bad input rejects with FerError codes image_empty, image_corrupt,
// image_unsupported or image_too_large (checked from the header before any decoding).

import { FerError } from '../core/errors.ts';
import type { ImageInput, PreprocessorConfig } from './types.ts';
import { decodeToRgb, type ColorManagement } from './preprocess/decode.ts';
import { pilResizeAsync, SUPPORTED_RESAMPLE_FILTERS } from './preprocess/pil-resample.ts';
import { channelTables, padToSquare, writeChw } from './preprocess/tensor.ts';

export { decodeToRgb, DEFAULT_MAX_IMAGE_PIXELS, IMAGE_ERRORS, type ColorManagement } from './preprocess/decode.ts';
export { pilResize, pilResizeAsync, PIL_FILTERS } from './preprocess/pil-resample.ts';

/**
 * A square-input preprocessor_config.json as our model directories write it (ViTImageProcessor
 * fields): bilinear resize to `size`, x/255, then (x − mean) / std per channel; optionally padded
 * to a centred black square first (face-api's crops).
 */
export function squareImageProcessor(
  size: number,
  mean: readonly number[],
  std: readonly number[],
  options: { padToSquare?: boolean } = {},
): PreprocessorConfig {
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: size, width: size },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [mean[0]!, mean[1]!, mean[2]!],
    image_std: [std[0]!, std[1]!, std[2]!],
    ...(options.padToSquare ? { pad_to_square: true } : {}),
  };
}

export interface PreprocessOptions {
  /** Largest accepted width × height (InferenceConfig.maxImagePixels); default 100 M. */
  readonly maxPixels?: number;
  /** 'pil' (default): PIL's convert('RGB') semantics; 'icc': colour-managed conversion to sRGB. */
  readonly colorManagement?: ColorManagement;
}

/** Number of float32 values one preprocessed image occupies in the batch tensor (3·H·W). */
export function preprocessedLength(config: PreprocessorConfig): number {
  return 3 * config.size.height * config.size.width;
}

/** Throws a FerError (model_invalid) naming the first field preprocessing cannot honour. */
export function checkPreprocessorConfig(config: PreprocessorConfig): void {
  const problem = (field: string, why: string) =>
    new FerError('model_invalid', `preprocessor_config.json: ${field} ${why}`);
  const { height, width } = config.size ?? {};
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw problem('size', `must be {height, width} with positive integers, got ${JSON.stringify(config.size)}`);
  }
  if (config.do_resize && !SUPPORTED_RESAMPLE_FILTERS.includes(config.resample)) {
    throw problem(
      'resample',
      `${config.resample} is not a PIL filter id (supported: ${SUPPORTED_RESAMPLE_FILTERS.join(', ')})`,
    );
  }
  if (config.do_rescale && !Number.isFinite(config.rescale_factor))
    throw problem('rescale_factor', 'must be a finite number');
  if (config.do_normalize) {
    for (const [name, values] of [
      ['image_mean', config.image_mean],
      ['image_std', config.image_std],
    ] as const) {
      if (!Array.isArray(values) || values.length !== 3 || !values.every(Number.isFinite))
        throw problem(name, `must be three finite numbers, got ${JSON.stringify(values)}`);
    }
    if (config.image_std.some((s) => s === 0)) throw problem('image_std', 'must not contain 0');
  }
  if (config.channel_order !== undefined && config.channel_order !== 'rgb' && config.channel_order !== 'bgr') {
    throw problem('channel_order', `must be "rgb" or "bgr", got ${JSON.stringify(config.channel_order)}`);
  }
}

// Tables depend only on the config; configs are long-lived objects of loaded models.
const tableCache = new WeakMap<PreprocessorConfig, readonly Float32Array[]>();

function tablesFor(config: PreprocessorConfig): readonly Float32Array[] {
  let tables = tableCache.get(config);
  if (tables === undefined) {
    tables = channelTables(config);
    tableCache.set(config, tables);
  }
  return tables;
}

/**
 * Preprocesses one image into `out[offset … offset + preprocessedLength(config))` as C×H×W
 * float32. Rejects with FerError for bad images; throws RangeError if `out` is too short.
 */
export async function preprocessInto(
  image: ImageInput,
  config: PreprocessorConfig,
  out: Float32Array,
  offset: number,
  options: PreprocessOptions = {},
): Promise<void> {
  const length = preprocessedLength(config);
  if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
    throw new RangeError(`preprocessInto: ${length} values at offset ${offset} do not fit an output of ${out.length}`);
  }
  let rgb = await decodeToRgb(image, options);
  if (config.pad_to_square) rgb = padToSquare(rgb);
  const { height, width } = config.size;
  if (config.do_resize) {
    rgb = await pilResizeAsync(rgb, width, height, config.resample);
  } else if (rgb.width !== width || rgb.height !== height) {
    throw new FerError(
      'image_size_mismatch',
      `image is ${rgb.width}x${rgb.height} but the model takes ${width}x${height} and its preprocessor_config.json has do_resize false`,
    );
  }
  writeChw(rgb, tablesFor(config), config.channel_order ?? 'rgb', out, offset);
}
