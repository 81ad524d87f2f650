import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createImageClassifier } from '../../src/inference/classifier.ts';
import { readModelDir } from '../../src/inference/model-dir.ts';
import { buildSyntheticVitModelDir, DEFAULT_LABELS } from '../../src/models/vit/index.ts';

let tmp: string;
let tinyVit: string;
let smallVit: string;
let images: Uint8Array[];

/** Deterministic noise JPEGs of assorted sizes (decode + resize are part of the measured path). */
async function noiseJpegs(count: number): Promise<Uint8Array[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const [w, h] = [200 + 17 * k, 180 + 11 * k];
      const raw = Buffer.alloc(w * h * 3);
      let s = k + 1;
      for (let i = 0; i < raw.length; i++) raw[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
      return new Uint8Array(
        await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
          .jpeg({ quality: 85 })
          .toBuffer(),
      );
    }),
  );
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-classifier-vit-'));
  tinyVit = (await buildSyntheticVitModelDir({ outDir: path.join(tmp, 'tiny'), preset: 'tiny', seed: 3 })).outDir;
  // Between tiny and ViT-B/16: one batch of 8 takes well over 50 ms on one core, so it would
  // break the event-loop bound below if it ever ran on the main thread.
  smallVit = (
    await buildSyntheticVitModelDir({
      outDir: path.join(tmp, 'small'),
      preset: 'tiny',
      seed: 4,
      config: { hiddenSize: 192, numHiddenLayers: 6, numAttentionHeads: 3, intermediateSize: 768 },
    })
  ).outDir;
  images = await noiseJpegs(8);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('classifier on a ViT model directory (synthetic, built by the ViT builder)', () => {
  it('validates the directory and takes the labels from its id2label', async () => {
    const model = await readModelDir(tinyVit);
    expect(model.labels).toEqual(DEFAULT_LABELS);
    expect(model.preprocessor.size).toEqual({ height: 224, width: 224 });
  });

  it('classifies images in batches, the same image giving the same result in any batch', async () => {
    const sizes: number[] = [];
    const classifier = await createImageClassifier(tinyVit, {
      config: loadConfig(
        {},
        {
          inference: {
            executionProviders: ['cuda', 'cpu'],
            intraOpThreads: 1,
            sessionThreads: 2,
            maxBatchSize: 4,
            maxDelayMs: 20,
          },
        },
      ).inference,
      batchObserver: { onBatch: (e) => void sizes.push(e.size) },
    });
    try {
      // On CPU nothing runs before the first request (no warm-up: backend/warm-up.ts says why).
      expect(classifier.executionProvider).toBe('cpu');
      expect((classifier as unknown as { host: { busyMs(): number[] } }).host.busyMs()).toEqual([0, 0]);
      const alone = await classifier.classify(images[0]!);
      const together = await Promise.all(images.map((image) => classifier.classify(image)));
      expect(sizes.slice(1).every((s) => s <= 4)).toBe(true);
      expect(sizes.slice(1).reduce((a, b) => a + b, 0)).toBe(8);
      expect(DEFAULT_LABELS).toContain(together[0]!.label);
      together[0]!.probabilities.forEach((p, i) => expect(p).toBeCloseTo(alone.probabilities[i]!, 5));
    } finally {
      await classifier.close();
    }
  });
});

describe('event loop while inference runs flat out', () => {
  it('keeps the main thread event-loop delay under 50 ms at p99', async () => {
    const batchMs: number[] = [];
    const classifier = await createImageClassifier(smallVit, {
      config: loadConfig(
        {},
        {
          inference: {
            executionProviders: ['cpu'],
            intraOpThreads: 1,
            sessionThreads: 1,
            maxBatchSize: 8,
            maxDelayMs: 2,
          },
        },
      ).inference,
      observer: { inferenceBatch: (e) => void batchMs.push(e.durationMs) },
    });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    try {
      await classifier.classify(images[0]!); // warm-up, outside the measurement
      batchMs.length = 0;
      delay.enable();
      // Closed loop: 24 callers each classify again as soon as their result arrives, so the
      // session thread always has a full batch waiting and the main thread decodes and resizes.
      const until = Date.now() + 5000;
      let classified = 0;
      await Promise.all(
        Array.from({ length: 24 }, async (_, caller) => {
          for (let k = caller; Date.now() < until; k++) {
            await classifier.classify(images[k % images.length]!);
            classified++;
          }
        }),
      );
      delay.disable();
      const p99 = delay.percentile(99) / 1e6;
      const longest = Math.max(...batchMs);
      console.log(
        `event-loop delay p99 ${p99.toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; ${classified} images in ${batchMs.length} batches, longest batch ${longest.toFixed(0)} ms`,
      );
      expect(classified).toBeGreaterThan(0);
      // The bound means something: one session.run takes longer than it, so it must run elsewhere.
      expect(longest).toBeGreaterThan(50);
      expect(p99).toBeLessThan(50);
    } finally {
      delay.disable();
      await classifier.close();
    }
  });
});
