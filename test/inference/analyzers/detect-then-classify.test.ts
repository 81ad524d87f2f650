// Detect-then-classify over the real UltraFace detector and a tiny classifier (same I/O contract
// as the ViT), through the real hosts and batchers.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/types.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { DetectThenClassifyAnalyzer } from '../../../src/inference/analyzers/detect-then-classify.ts';
import { createImageClassifier } from '../../../src/inference/classifier.ts';
import { loadDetector } from '../../../src/inference/detectors/detector.ts';
import { installLocal } from '../../../src/models/fetch/fetch.ts';
import type { ImageInput } from '../../../src/inference/types.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { SEVEN_LABELS, writeTinyClassifierDir } from '../fixtures/tiny-classifier.ts';
import { readRgb } from '../detectors/raw-detect.ts';

describeWithShared('detect-then-classify analyzer', () => {
  let tmp: string;
  let analyzer: DetectThenClassifyAnalyzer;
  const batches: Array<readonly ImageInput[]> = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-analyzer-'));
    await installLocal(sharedPath('models'), path.join(tmp, 'models'), ['ultraface']);
    const inference = loadConfig(
      {},
      { inference: { intraOpThreads: 1, executionProviders: ['cpu'], maxBatchSize: 16, maxDelayMs: 200 } },
    ).inference;
    const detector = await loadDetector(path.join(tmp, 'models', 'ultraface-rfb-640'), {
      inference,
      settings: { minFaceSize: 8, maxFaces: 20 },
    });
    const classifier = await createImageClassifier(await writeTinyClassifierDir(path.join(tmp, 'tiny')), {
      // A long batching delay: the detector finishes frames one after another, and their crops
      // should still meet in one classifier batch.
      config: { ...inference, maxDelayMs: 3_000 },
      batchObserver: { onBatch: (e) => batches.push(e.requests) },
    });
    analyzer = new DetectThenClassifyAnalyzer({ detector, classifier, cropMargin: 0.15 });
  });
  afterAll(async () => {
    await analyzer?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('describes both models', () => {
    expect(analyzer.info).toMatchObject({ name: 'tiny', detector: 'ultraface-rfb-640', labels: SEVEN_LABELS });
  });

  it('classifies every face of every frame; crops of concurrent frames share classifier batches', async () => {
    batches.length = 0;
    const files = ['wh_two_people.jpg', 'pexels_group.jpg', 'pexels_neutral.jpg'];
    const frames = await Promise.all(files.map((f) => readRgb(sharedPath('fixtures', 'faces', f))));
    const results = await Promise.all(frames.map((f) => analyzer.analyze(f)));
    expect(results.map((r) => r.faces.length)).toEqual([2, 5, 1]);
    for (const [i, r] of results.entries()) {
      for (const face of r.faces) {
        expect(face.probabilities).toHaveLength(7);
        expect(face.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(SEVEN_LABELS).toContain(face.label);
        expect(face.detectorScore).toBeGreaterThanOrEqual(0.7);
        expect(face.box.x + face.box.width).toBeLessThanOrEqual(frames[i]!.width);
      }
    }
    // 8 crops; the crops of different frames went through shared batches, not one batch per frame.
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(8);
    expect(batches.length).toBe(1);
    // Each crop is a square cut at full resolution (the classifier resizes it itself).
    for (const crop of batches.flat() as RgbImage[]) expect(crop.width).toBe(crop.height);
  });

  it('a frame without a face gives faces: [] and is never sent to the classifier', async () => {
    batches.length = 0;
    const grey: RgbImage = { width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(90) };
    expect(await analyzer.analyze(grey)).toEqual({ faces: [] });
    expect(batches).toHaveLength(0);
  });

  it('a sequence of frames: an unchanged face reuses its classification for up to K frames; one that moved or changed is classified', async () => {
    const reusing = new DetectThenClassifyAnalyzer({
      ...(analyzer as unknown as { options: ConstructorParameters<typeof DetectThenClassifyAnalyzer>[0] }).options,
      reuse: { maxReuse: 2, threshold: 0.01, minIou: 0.5 },
    });
    const photo = await readRgb(sharedPath('fixtures', 'faces', 'pexels_neutral.jpg'));
    // The same frame five times, then the photo mirrored (the face moved), then changed in place (inverted).
    const mirrored = { ...photo, data: new Uint8Array(photo.data.length) };
    for (let y = 0; y < photo.height; y++)
      for (let x = 0; x < photo.width; x++)
        for (let c = 0; c < 3; c++)
          mirrored.data[(y * photo.width + x) * 3 + c] = photo.data[(y * photo.width + (photo.width - 1 - x)) * 3 + c]!;
    const inverted = { ...mirrored, data: mirrored.data.map((v) => 255 - v) };
    batches.length = 0;
    const outcomes = await reusing.analyzeSequence([photo, photo, photo, photo, photo, mirrored, inverted]);
    const faces = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.faces : []));
    expect(faces.map((f) => f.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    // Classified at frames 0 and 3 (K = 2 reuses in a row), at 5 (moved) and 6 (changed).
    expect(faces.map((f) => f[0]!.reused === true)).toEqual([false, true, true, false, true, false, false]);
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(4);
    // A reused face carries its frame's own box and detector score, and the classification it reused.
    expect(faces[1]![0]!.probabilities).toEqual(faces[0]![0]!.probabilities);
    expect(faces[1]![0]!.box).toEqual(faces[0]![0]!.box);

    // A run still open when the sequence ends: its last frame is classified, confirming the reuse between.
    batches.length = 0;
    const open = await reusing.analyzeSequence([photo, photo, photo]);
    expect(open.map((o) => (o.status === 'fulfilled' ? o.value.faces[0]!.reused === true : null))).toEqual([
      false,
      true,
      false,
    ]);
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(2);
  });
});
