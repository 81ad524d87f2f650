// Image input → 8-bit RGB pixels with the semantics of transformers' `load_image` + PIL
// `convert('RGB')`, which is what the seed model saw in training:
// - EXIF orientation is applied (ImageOps.exif_transpose).
// - Alpha is DROPPED, not composited: convert('RGB') keeps the stored colour of transparent
//   pixels (RGBA, LA, palette with transparency alike).
// - Greyscale is replicated to three channels.
// - Embedded ICC profiles are IGNORED (colorManagement 'pil', the default): PIL's convert does
//   no colour management, so the stored values are used as if they were sRGB.
// - CMYK (e.g. Adobe JPEGs) uses PIL's naive formula R = (255−C)(255−K)/255, again without ICC.
//   colorManagement 'icc' instead converts CMYK and profiled images to sRGB through their
//   embedded profile (or libvips' default CMYK profile): colour-correct, but not what the model saw.
// - 16-bit PNGs keep the high byte (PIL does this for 16-bit RGB). For 16-bit greyscale PIL
//   clips every value above 255 to white; we deliberately take the high byte there too.
// Headers are read before decoding so oversized images are refused without allocating pixels.

import sharp, { type Metadata } from 'sharp';
import type { RgbImage } from '../../core/types.ts';
import { FerError } from '../../core/errors.ts';
import type { ImageInput } from '../types.ts';

export type ColorManagement = 'pil' | 'icc';

/** Stable error codes of bad image input (FerError.code). */
export const IMAGE_ERRORS = {
  empty: 'image_empty',
  corrupt: 'image_corrupt',
  unsupported: 'image_unsupported',
  tooLarge: 'image_too_large',
} as const;

/** Default of InferenceConfig.maxImagePixels (FER_MAX_IMAGE_PIXELS). */
export const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000;

/** Raster photo formats; vector and document formats (SVG, PDF, …), which PIL does not read, are refused. */
const ACCEPTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

export interface DecodeOptions {
  readonly maxPixels?: number;
  readonly colorManagement?: ColorManagement;
}

function tooLarge(width: number, height: number, maxPixels: number): FerError {
  return new FerError(
    IMAGE_ERRORS.tooLarge,
    `image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels} pixels (maxImagePixels, FER_MAX_IMAGE_PIXELS)`,
  );
}

function checkRaw(image: RgbImage, maxPixels: number): RgbImage {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new FerError(
      IMAGE_ERRORS.corrupt,
      `raw RGB image size ${width}x${height} is not a pair of non-negative integers`,
    );
  }
  if (width === 0 || height === 0)
    throw new FerError(IMAGE_ERRORS.empty, `raw RGB image is ${width}x${height}: it has no pixels`);
  if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);
  if (data.length !== width * height * 3) {
    throw new FerError(
      IMAGE_ERRORS.corrupt,
      `raw RGB image ${width}x${height} needs ${width * height * 3} bytes (3 per pixel), got ${data.length}`,
    );
  }
  return image;
}

function describeSharpError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** PIL's cmyk2rgb: nk = 255 − K; out = nk − MULDIV255(C, nk), MULDIV255 rounding as in Convert.c. */
function cmykToRgb(cmyk: Uint8Array, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; o < rgb.length; i += 4, o += 3) {
    const nk = 255 - cmyk[i + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = cmyk[i + c]! * nk + 128;
      rgb[o + c] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return rgb;
}

/** Keeps the first three of `channels` interleaved channels (drops alpha); replicates grey. */
function toRgb(data: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  if (channels === 3) return data;
  const rgb = new Uint8Array(width * height * 3);
  const grey = channels < 3;
  for (let i = 0, o = 0; o < rgb.length; i += channels, o += 3) {
    rgb[o] = data[i]!;
    rgb[o + 1] = data[grey ? i : i + 1]!;
    rgb[o + 2] = data[grey ? i : i + 2]!;
  }
  return rgb;
}

async function decodeEncoded(
  bytes: Uint8Array,
  maxPixels: number,
  colorManagement: ColorManagement,
): Promise<RgbImage> {
  if (bytes.length === 0) throw new FerError(IMAGE_ERRORS.empty, 'image file is empty (0 bytes)');
  let meta: Metadata;
  try {
    // Reads the header only: nothing is decoded yet.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    const message = describeSharpError(err);
    if (/unsupported image format/i.test(message)) {
      throw new FerError(
        IMAGE_ERRORS.unsupported,
        `not an image in a supported format (JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF); ${bytes.length} bytes starting with ${hexPrefix(bytes)}`,
        { cause: err },
      );
    }
    throw new FerError(IMAGE_ERRORS.corrupt, `image header cannot be read: ${message}`, { cause: err });
  }
  if (!ACCEPTED_FORMATS.has(meta.format)) {
    throw new FerError(
      IMAGE_ERRORS.unsupported,
      `image format "${meta.format}" is not accepted (accepted: ${[...ACCEPTED_FORMATS].join(', ')})`,
    );
  }
  const { width, height } = meta;
  if (!(width > 0 && height > 0))
    throw new FerError(IMAGE_ERRORS.corrupt, `image header gives no usable size (${width}x${height})`);
  if (width * height > maxPixels) throw tooLarge(width, height, maxPixels);

  const cmykAsPil = colorManagement === 'pil' && meta.space === 'cmyk';
  try {
    // failOn 'warning' (sharp's default): truncated or damaged data fails, as PIL refuses truncated files.
    let pipeline = sharp(bytes, {
      ignoreIcc: colorManagement === 'pil',
      limitInputPixels: maxPixels,
      failOn: 'warning',
    }).rotate();
    if (cmykAsPil) pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (cmykAsPil) {
      if (info.channels !== 4) throw new Error(`CMYK image decoded to ${info.channels} channels`);
      return { data: cmykToRgb(pixels, info.width, info.height), width: info.width, height: info.height };
    }
    return { data: toRgb(pixels, info.width, info.height, info.channels), width: info.width, height: info.height };
  } catch (err) {
    throw new FerError(
      IMAGE_ERRORS.corrupt,
      `${meta.format} image ${width}x${height} cannot be decoded: ${describeSharpError(err)}`,
      { cause: err },
    );
  }
}

function hexPrefix(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 8)).toString('hex');
}

/**
 * Decodes an encoded image or validates raw RGB into 8-bit RGB (see the file comment for the
 * colour semantics). Bad input throws FerError with an IMAGE_ERRORS code and a message saying
 * what was wrong (and the limit, for oversized images).
 */
export async function decodeToRgb(input: ImageInput, options: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (input instanceof Uint8Array) return decodeEncoded(input, maxPixels, options.colorManagement ?? 'pil');
  return checkRaw(input, maxPixels);
}
