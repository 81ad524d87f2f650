// Bad input gives a specific FerError (stable code, message saying what was wrong and the
// limit) and never takes the process down; the decompression bomb is refused from its header.

import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../../src/core/errors.ts';
import { IMAGE_ERRORS, preprocessedLength, preprocessInto } from '../../../src/inference/preprocess.ts';
import type { ImageInput } from '../../../src/inference/types.ts';
import { SEED_CONFIG } from './reference.ts';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** A valid PNG header claiming width×height RGB, with one compressed row: a decompression bomb's shape. */
function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = deflateSync(Buffer.alloc(1 + width * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', row),
    chunk('IEND', new Uint8Array()),
  ]);
}

async function photoJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 120, b: 40 } } })
    .composite([
      { input: Buffer.alloc(100 * 100 * 3, 255), raw: { width: 100, height: 100, channels: 3 }, left: 50, top: 50 },
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function rejection(input: ImageInput, maxPixels?: number): Promise<FerError> {
  const out = new Float32Array(preprocessedLength(SEED_CONFIG));
  const error = await preprocessInto(input, SEED_CONFIG, out, 0, { maxPixels }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerError);
  return error as FerError;
}

describe('preprocessing: bad input', () => {
  it('zero-byte file → image_empty', async () => {
    const e = await rejection(new Uint8Array(0));
    expect(e.code).toBe(IMAGE_ERRORS.empty);
    expect(e.message).toMatch(/empty \(0 bytes\)/);
  });

  it('non-image (text, SVG) → image_unsupported', async () => {
    const text = await rejection(new TextEncoder().encode('hello, this is not an image\n'));
    expect(text.code).toBe(IMAGE_ERRORS.unsupported);
    expect(text.message).toMatch(/not an image in a supported format .*JPEG, PNG/);
    // sharp can rasterise SVG, but PIL cannot and we do not take vector input from users.
    const svg = await rejection(
      new TextEncoder().encode(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      ),
    );
    expect(svg.code).toBe(IMAGE_ERRORS.unsupported);
    expect(svg.message).toMatch(/"svg" is not accepted/);
  });

  it('corrupt image (truncated JPEG, damaged PNG data) → image_corrupt', async () => {
    const jpeg = await photoJpeg();
    const truncated = await rejection(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(truncated.code).toBe(IMAGE_ERRORS.corrupt);
    expect(truncated.message).toMatch(/jpeg image 320x240 cannot be decoded/);

    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const damaged = Buffer.from(png);
    const idat = damaged.indexOf('IDAT', 0, 'latin1');
    damaged.fill(0xab, idat + 6, idat + 20);
    const e = await rejection(damaged);
    expect(e.code).toBe(IMAGE_ERRORS.corrupt);
  });

  it('20000x20000 PNG header (decompression bomb) → image_too_large from the header, before decoding', async () => {
    const bomb = bombPng(20000, 20000);
    expect(bomb.length).toBeLessThan(1_000_000);
    const rssBefore = process.memoryUsage().rss;
    const e = await rejection(bomb);
    expect(e.code).toBe(IMAGE_ERRORS.tooLarge);
    expect(e.message).toBe(
      'image is 20000x20000 = 400000000 pixels, above the limit of 100000000 pixels (maxImagePixels, FER_MAX_IMAGE_PIXELS)',
    );
    // 20000² RGB would be 1.2 GB decoded; refusing from the header allocates next to nothing.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it('the pixel limit comes from the caller (config maxImagePixels)', async () => {
    const e = await rejection(await photoJpeg(), 320 * 240 - 1);
    expect(e.code).toBe(IMAGE_ERRORS.tooLarge);
    expect(e.message).toMatch(/320x240 = 76800 pixels, above the limit of 76799 pixels/);
  });

  it('raw RGB: wrong buffer length, no pixels, too large', async () => {
    const short = await rejection({ data: new Uint8Array(10 * 10 * 3 - 1), width: 10, height: 10 });
    expect(short.code).toBe(IMAGE_ERRORS.corrupt);
    expect(short.message).toBe('raw RGB image 10x10 needs 300 bytes (3 per pixel), got 299');
    const empty = await rejection({ data: new Uint8Array(0), width: 0, height: 10 });
    expect(empty.code).toBe(IMAGE_ERRORS.empty);
    const large = await rejection({ data: new Uint8Array(30 * 30 * 3), width: 30, height: 30 }, 899);
    expect(large.code).toBe(IMAGE_ERRORS.tooLarge);
  });

  it('an output too short for the image is a programming error (RangeError), not an image error', async () => {
    const out = new Float32Array(preprocessedLength(SEED_CONFIG));
    await expect(preprocessInto(await photoJpeg(), SEED_CONFIG, out, 1)).rejects.toThrow(RangeError);
  });

  it('the process keeps working: many bad inputs at once, then a good one', async () => {
    const jpeg = await photoJpeg();
    const bad: ImageInput[] = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      jpeg.subarray(0, 500),
      bombPng(20000, 20000),
    ];
    const out = new Float32Array(preprocessedLength(SEED_CONFIG) * bad.length);
    const settled = await Promise.allSettled(
      bad.map((input, i) => preprocessInto(input, SEED_CONFIG, out, i * preprocessedLength(SEED_CONFIG))),
    );
    expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as FerError).code : 'ok'))).toEqual([
      IMAGE_ERRORS.empty,
      IMAGE_ERRORS.unsupported,
      IMAGE_ERRORS.corrupt,
      IMAGE_ERRORS.tooLarge,
    ]);
    const good = new Float32Array(preprocessedLength(SEED_CONFIG));
    await preprocessInto(jpeg, SEED_CONFIG, good, 0);
    // Top-left is the orange background: R = 200 → 200/255·2−1 ≈ 0.569.
    expect(good[0]).toBeCloseTo(200 / 127.5 - 1, 1);
  });
});
