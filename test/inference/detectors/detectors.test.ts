// The two detector families on real photographs, through the real inference host and batcher.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/types.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { loadDetector, type OnnxFaceDetector } from '../../../src/inference/detectors/detector.ts';
import { iou } from '../../../src/inference/detectors/geometry.ts';
import { installLocal } from '../../../src/models/fetch/fetch.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { readRgb } from './raw-detect.ts';

const SINGLE_PORTRAITS = [
  'pexels_angry.jpg',
  'pexels_surprised.jpg',
  'pexels_neutral.jpg',
  'pexels_sad_baby.jpg',
  'pexels_happy_baby.jpg',
  'wh_obama_portrait_smile.jpg',
  'wh_obama_speaking.jpg',
  'wh_biden_serious.jpg',
  'grid_s1_bbaf2n_frame.png',
];

/**
 * Expected face counts per detector at the given threshold. YuNet at its demo threshold 0.9
 * misses faces whose scores land just below it (its scores sit in 0.78–0.96 on true faces here,
 * and nothing else scores above 0.5): pexels_angry's face is ~340 px tall at the 640 input, above
 * the 10–300 px range YuNet is trained for (score 0.83), and two of pexels_group's faces (one cut
 * off at the top edge) score 0.87–0.89. At 0.8 YuNet finds every face.
 */
const CASES: Array<{ model: string; threshold?: number; expected: Record<string, number>; groupAtLeast: number }> = [
  { model: 'ultraface-rfb-320', expected: {}, groupAtLeast: 4 },
  { model: 'ultraface-rfb-640', expected: {}, groupAtLeast: 4 },
  { model: 'yunet-2023mar', expected: { 'pexels_angry.jpg': 0 }, groupAtLeast: 3 },
  { model: 'yunet-2023mar', threshold: 0.8, expected: {}, groupAtLeast: 4 },
  { model: 'yunet-s-dynamic', threshold: 0.8, expected: {}, groupAtLeast: 4 },
];

/** A head-and-shoulders region of wh_obama_portrait_smile.jpg (face plus a margin of context). */
const PORTRAIT_REGION = { left: 350, top: 50, width: 280, height: 390 };

describeWithShared('face detectors on real photographs', () => {
  let modelsDir: string;
  const images = new Map<string, RgbImage>();
  const inference = loadConfig({}, { inference: { intraOpThreads: 1, executionProviders: ['cpu'] } }).inference;

  beforeAll(async () => {
    modelsDir = await mkdtemp(path.join(os.tmpdir(), 'fer-detectors-'));
    await installLocal(sharedPath('models'), modelsDir);
    for (const file of [...SINGLE_PORTRAITS, 'wh_two_people.jpg', 'pexels_group.jpg'])
      images.set(file, await readRgb(sharedPath('fixtures', 'faces', file)));
  });
  afterAll(async () => {
    await rm(modelsDir, { recursive: true, force: true });
  });

  const open = (model: string, scoreThreshold?: number): Promise<OnnxFaceDetector> =>
    loadDetector(path.join(modelsDir, model), {
      inference,
      settings: { minFaceSize: 0, maxFaces: 50, scoreThreshold },
    });

  for (const c of CASES) {
    it(`${c.model} at ${c.threshold ?? 'its reference'} threshold: one face per portrait, 2 in the two-people photo, ≥${c.groupAtLeast} of 5 in the group`, async () => {
      const detector = await open(c.model, c.threshold);
      try {
        if (c.threshold === undefined)
          expect(detector.settings.scoreThreshold).toBe(c.model.startsWith('ultraface') ? 0.7 : 0.9);
        expect(detector.settings.nmsIou).toBe(0.3);
        // All submitted at once: batched where the model allows it.
        const files = [...images.keys()];
        const results = await Promise.all(files.map((f) => detector.detect(images.get(f)!)));
        const counts = Object.fromEntries(files.map((f, i) => [f, results[i]!.length]));
        for (const file of SINGLE_PORTRAITS) expect.soft(counts[file], file).toBe(c.expected[file] ?? 1);
        expect(counts['wh_two_people.jpg']).toBe(2);
        expect(counts['pexels_group.jpg']).toBeGreaterThanOrEqual(c.groupAtLeast);
        expect(counts['pexels_group.jpg']).toBeLessThanOrEqual(5);
        for (const detections of results) {
          for (const d of detections) {
            expect(d.score).toBeGreaterThanOrEqual(detector.settings.scoreThreshold);
            if (c.model.startsWith('yunet')) expect(d.landmarks).toHaveLength(5);
          }
        }
        // The two people are side by side: one box in each half.
        const two = results[files.indexOf('wh_two_people.jpg')]!;
        const centres = two.map((d) => d.box.x + d.box.width / 2).sort((a, b) => a - b);
        const width = images.get('wh_two_people.jpg')!.width;
        expect(centres[0]!).toBeLessThan(width / 2);
        expect(centres[1]!).toBeGreaterThan(width / 2);
      } finally {
        await detector.close();
      }
    });
  }

  it('box accuracy: a face photo pasted at a known place and scale is found there (IoU ≥ 0.5), both families', async () => {
    const source = sharedPath('fixtures', 'faces', 'wh_obama_portrait_smile.jpg');
    const placements = [
      { left: 90, top: 240, scale: 0.55 },
      { left: 760, top: 120, scale: 1.2 },
    ];
    for (const model of ['ultraface-rfb-320', 'ultraface-rfb-640', 'yunet-2023mar']) {
      const detector = await open(model, model.startsWith('yunet') ? 0.8 : undefined);
      try {
        for (const p of placements) {
          const width = Math.round(PORTRAIT_REGION.width * p.scale);
          const height = Math.round(PORTRAIT_REGION.height * p.scale);
          const patch = await sharp(source)
            .rotate()
            .extract(PORTRAIT_REGION)
            .resize(width, height)
            .removeAlpha()
            .png()
            .toBuffer();
          const { data, info } = await sharp({
            create: { width: 1280, height: 720, channels: 3, background: { r: 128, g: 128, b: 128 } },
          })
            .composite([{ input: patch, left: p.left, top: p.top }])
            .removeAlpha()
            .raw()
            .toBuffer({ resolveWithObject: true });
          const frame: RgbImage = { data: new Uint8Array(data), width: info.width, height: info.height };
          const found = await detector.detect(frame);
          expect(found, `${model} at ${JSON.stringify(p)}`).toHaveLength(1);
          const pasted = { x: p.left, y: p.top, width, height };
          expect(iou(found[0]!.box, pasted), `${model} at ${JSON.stringify(p)}`).toBeGreaterThanOrEqual(0.5);
        }
      } finally {
        await detector.close();
      }
    }
  });

  it('minimum face size and maximum faces per frame limit what is reported', async () => {
    const detector = await loadDetector(path.join(modelsDir, 'ultraface-rfb-640'), {
      inference,
      settings: { minFaceSize: 0, maxFaces: 2 },
    });
    const group = images.get('pexels_group.jpg')!;
    try {
      const limited = await detector.detect(group);
      expect(limited).toHaveLength(2);
    } finally {
      await detector.close();
    }
    const big = await loadDetector(path.join(modelsDir, 'ultraface-rfb-640'), {
      inference,
      settings: { minFaceSize: 400, maxFaces: 50 },
    });
    try {
      expect(await big.detect(group)).toHaveLength(0);
      expect(await big.detect(images.get('pexels_neutral.jpg')!)).toHaveLength(1); // that face is ~430x600
    } finally {
      await big.close();
    }
  });

  it('batches frames where the graph allows it (yunet-s-dynamic), one per run where it does not (UltraFace)', async () => {
    const frames = [...images.values()].slice(0, 6);
    for (const [model, batched] of [
      ['yunet-s-dynamic', true],
      ['ultraface-rfb-320', false],
    ] as const) {
      const sizes: number[] = [];
      const detector = await loadDetector(path.join(modelsDir, model), {
        inference: { ...inference, maxDelayMs: 50 },
        settings: { minFaceSize: 0, maxFaces: 50, scoreThreshold: 0.8 },
        observer: { onBatch: (e) => sizes.push(e.size) },
      });
      try {
        const results = await Promise.all(frames.map((f) => detector.detect(f)));
        expect(results.every((r) => r.length >= 1)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(frames.length);
        if (batched) expect(Math.max(...sizes)).toBeGreaterThan(1);
        else expect(new Set(sizes)).toEqual(new Set([1]));
      } finally {
        await detector.close();
      }
    }
  });

  it('input size: configurable for dynamic-size models, refused for fixed ones', async () => {
    const dynamic = await loadDetector(path.join(modelsDir, 'yunet-s-dynamic'), {
      inference,
      settings: { minFaceSize: 0, maxFaces: 50, scoreThreshold: 0.8, inputWidth: 480, inputHeight: 384 },
    });
    try {
      expect([dynamic.inputWidth, dynamic.inputHeight]).toEqual([480, 384]);
      expect(await dynamic.detect(images.get('wh_two_people.jpg')!)).toHaveLength(2);
    } finally {
      await dynamic.close();
    }
    await expect(
      loadDetector(path.join(modelsDir, 'yunet-2023mar'), {
        inference,
        settings: { minFaceSize: 0, maxFaces: 5, inputWidth: 320, inputHeight: 320 },
      }),
    ).rejects.toThrow(/fixed input size 640x640; 320x320 was configured/);
    await expect(
      loadDetector(path.join(modelsDir, 'yunet-s-dynamic'), {
        inference,
        settings: { minFaceSize: 0, maxFaces: 5, inputWidth: 300, inputHeight: 320 },
      }),
    ).rejects.toThrow(/multiples of 32/);
    await expect(
      loadDetector(path.join(modelsDir, 'absent'), { inference, settings: { minFaceSize: 0, maxFaces: 5 } }),
    ).rejects.toThrow(/models fetch ultraface/);
  });
});
