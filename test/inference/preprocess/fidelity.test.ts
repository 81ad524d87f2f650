// Fidelity of preprocessing against the reference: Python + PIL + numpy doing what transformers'
// load_image + ViTImageProcessor do (see pil_reference.py). Criterion from issue 2: mean absolute
// difference of the normalised tensors ≤ 0.005 on the median image and ≤ 0.02 on every image.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessedLength, preprocessInto } from '../../../src/inference/preprocess.ts';
import type { PreprocessorConfig } from '../../../src/inference/types.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { difference, generateImages, median, referenceTensors, SEED_CONFIG, type Difference } from './reference.ts';
import { describeWithTools } from '../../helpers/system-tools.ts';

const MEDIAN_LIMIT = 0.005;
const EVERY_LIMIT = 0.02;

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'fer-preprocess-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Row extends Difference {
  readonly image: string;
}

/** Our tensor and the reference tensor of every file, compared; prints the per-image table. */
async function compare(
  title: string,
  config: PreprocessorConfig,
  files: readonly string[],
  grey16HighByte = true,
): Promise<Row[]> {
  const refs = referenceTensors(
    config,
    files.map((src, i) => ({
      src,
      dst: path.join(workDir, `${title.replace(/\W+/g, '_')}-${i}.f32`),
      grey16_high_byte: grey16HighByte,
    })),
  );
  const n = preprocessedLength(config);
  const rows: Row[] = [];
  for (const [i, file] of files.entries()) {
    const ours = new Float32Array(n + 10);
    // A non-zero offset: the image must land exactly there, nothing written around it.
    await preprocessInto(new Uint8Array(readFileSync(file)), config, ours, 5);
    expect(ours[4]).toBe(0);
    expect(ours[n + 5]).toBe(0);
    rows.push({ image: path.basename(file), ...difference(ours.subarray(5, 5 + n), refs[i]!) });
  }
  console.log(
    [
      `\n${title}: MAD / max abs difference of normalised tensors vs PIL reference`,
      ...rows.map((r) => `  ${r.image.padEnd(34)} MAD ${r.mad.toFixed(6)}  max ${r.max.toFixed(6)}`),
    ].join('\n'),
  );
  return rows;
}

function expectWithinLimits(rows: readonly Row[]): void {
  expect(median(rows.map((r) => r.mad))).toBeLessThanOrEqual(MEDIAN_LIMIT);
  for (const row of rows) expect(row.mad, row.image).toBeLessThanOrEqual(EVERY_LIMIT);
  // Lossless files decode identically everywhere, so there the resampler alone is measured:
  // it reproduces Pillow integer for integer, hence bit-identical tensors.
  for (const row of rows.filter((r) => /\.png$/i.test(r.image))) expect(row.max, row.image).toBe(0);
}

describeWithTools('preprocessing fidelity against Pillow', ['python3 (PIL, numpy)'], () => {
  describeWithShared('preprocessing fidelity: shared face photos vs PIL', () => {
    it('matches ViTImageProcessor on every photo in fixtures/faces', async () => {
      const dir = sharedPath('fixtures', 'faces');
      const files = readdirSync(dir)
        .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
        .sort()
        .map((f) => path.join(dir, f));
      expect(files.length).toBeGreaterThan(0);
      expectWithinLimits(await compare('shared photos', SEED_CONFIG, files));
    });
  });

  describe('preprocessing fidelity: generated images vs PIL', () => {
    let generated: string[];
    beforeAll(() => {
      const dir = path.join(workDir, 'generated');
      generated = generateImages(dir).map((f) => path.join(dir, f));
    });

    it('matches ViTImageProcessor on gradients, noise, odd sizes, alpha, greyscale, EXIF, 16-bit, CMYK and ICC images', async () => {
      expect(generated.length).toBeGreaterThanOrEqual(20);
      expectWithinLimits(await compare('generated images', SEED_CONFIG, generated));
    });

    it('matches with fer-stream extensions too: pad_to_square, bgr, other size, mean/std and every PIL filter', async () => {
      const some = generated.filter((f) => /photo_like|odd_7x300|upscale|exif_orientation_6\.jpg|noise_333/.test(f));
      for (const resample of [0, 1, 2, 3, 4, 5]) {
        const config: PreprocessorConfig = {
          ...SEED_CONFIG,
          size: { height: 112, width: 96 },
          resample,
          image_mean: [0.485, 0.456, 0.406],
          image_std: [0.229, 0.224, 0.225],
          channel_order: 'bgr',
          pad_to_square: resample % 2 === 0,
        };
        expectWithinLimits(await compare(`extensions resample=${resample} pad=${config.pad_to_square}`, config, some));
      }
    });

    it('16-bit greyscale: documents the deliberate deviation from PIL (which clips to white)', async () => {
      const grey16 = generated.filter((f) => f.includes('grey16'));
      const [vsPil] = await compare('grey16 vs raw PIL convert', SEED_CONFIG, grey16, false);
      // PIL turns nearly every pixel white; we keep the picture (high byte), so the two differ a lot.
      expect(vsPil!.mad).toBeGreaterThan(0.5);
    });
  });
});
