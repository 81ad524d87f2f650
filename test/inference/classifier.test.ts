import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { PipelineObserver } from '../../src/core/observer.ts';
import { createImageClassifier, softmax, type OnnxImageClassifier } from '../../src/inference/classifier.ts';
import type { ImageInput } from '../../src/inference/types.ts';
import { SEVEN_LABELS, tinyWeights, writeTinyClassifierDir } from './fixtures/tiny-classifier.ts';

const config = (overrides: Record<string, unknown> = {}) =>
  loadConfig(
    {},
    { inference: { executionProviders: ['cpu'], intraOpThreads: 1, maxBatchSize: 8, maxDelayMs: 20, ...overrides } },
  ).inference;

const png = (r: number, g: number, b: number, size = 40) =>
  sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer()
    .then((buf) => new Uint8Array(buf));

/** Expected probabilities of the tiny model for a uniform colour, in float64 from its weights. */
function expected(rgb: [number, number, number]): number[] {
  const labels = SEVEN_LABELS.length;
  const { w, b } = tinyWeights(labels);
  const means = rgb.map((v) => (v / 255 - 0.5) / 0.5);
  const logits = Array.from(
    { length: labels },
    (_, j) => b[j]! + means.reduce((s, m, c) => s + m * w[c * labels + j]!, 0),
  );
  return softmax(logits);
}

let tmp: string;
let dir: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-classifier-'));
  dir = await writeTinyClassifierDir(path.join(tmp, 'tiny'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('OnnxImageClassifier', () => {
  let classifier: OnnxImageClassifier;
  const batches: Array<readonly ImageInput[]> = [];
  const events: Array<Parameters<NonNullable<PipelineObserver['inferenceBatch']>>[0]> = [];
  const busy: number[] = [];
  beforeAll(async () => {
    classifier = await createImageClassifier(dir, {
      config: config(),
      batchObserver: { onBatch: (e) => void batches.push(e.requests) },
      observer: { inferenceBatch: (e) => void events.push(e), inferenceBusy: (e) => void busy.push(e.busyRatio) },
      busyReportMs: 0,
    });
  });
  afterAll(async () => {
    await classifier.close();
  });

  it('takes its name, labels and provider from the model directory and session', () => {
    expect(classifier.labels).toEqual(SEVEN_LABELS);
    expect(classifier.name).toBe('tiny');
    expect(classifier.executionProvider).toBe('cpu');
    expect(classifier.info.preprocessing).toMatchObject({ size: { height: 16, width: 16 } });
  });

  it("returns the softmax of the model's logits with the id2label label of the largest", async () => {
    const result = await classifier.classify(await png(255, 0, 0));
    expect(result.label).toBe('angry');
    expect(result.labelIndex).toBe(0);
    expect(result.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const want = expected([255, 0, 0]);
    result.probabilities.forEach((p, i) => expect(p).toBeCloseTo(want[i]!, 5));
  });

  it('accepts raw RGB pixels', async () => {
    const data = new Uint8Array(20 * 10 * 3);
    for (let i = 0; i < data.length; i += 3) data[i + 2] = 255;
    expect((await classifier.classify({ data, width: 20, height: 10 })).label).toBe('fear');
  });

  it('batches concurrent requests and gives each caller its own result', async () => {
    batches.length = 0;
    const images = await Promise.all([png(255, 0, 0), png(0, 255, 0), png(0, 0, 255), png(0, 255, 0)]);
    const results = await Promise.all(images.map((image) => classifier.classify(image)));
    expect(results.map((r) => r.label)).toEqual(['angry', 'disgust', 'fear', 'disgust']);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual(images);
  });

  it('fails only the bad image of a batch', async () => {
    batches.length = 0;
    const settled = await Promise.allSettled([
      classifier.classify(await png(0, 0, 255)),
      classifier.classify(new Uint8Array(0)),
      classifier.classify(new Uint8Array([1, 2, 3, 4, 5])),
    ]);
    expect(batches).toHaveLength(1);
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { label: 'fear' } });
    expect(settled[1]!.status).toBe('rejected');
    expect(settled[2]!.status).toBe('rejected');
    expect(((settled[1] as PromiseRejectedResult).reason as Error).message).not.toBe(
      ((settled[2] as PromiseRejectedResult).reason as Error).message,
    );
  });

  it('reports each batch and the threads busy ratio to the pipeline observer', async () => {
    events.length = 0;
    busy.length = 0;
    await Promise.all([classifier.classify(await png(9, 9, 9)), classifier.classify(await png(200, 9, 9))]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ stage: 'classify', provider: 'cpu', batchSize: 2, maxBatchSize: 8 });
    expect(events[0]!.durationMs).toBeGreaterThan(0);
    expect(busy).toHaveLength(1);
    expect(busy[0]).toBeGreaterThan(0);
    expect(busy[0]).toBeLessThanOrEqual(1);
  });
});

describe('createImageClassifier', () => {
  it('fails with the model directory problem', async () => {
    await expect(createImageClassifier(path.join(tmp, 'absent'), { config: config() })).rejects.toThrow(
      /model directory not found/,
    );
  });

  it('gives the same results with preprocessing on the calling thread (preprocessThreads 0)', async () => {
    const image = await png(30, 200, 90);
    const pooled = await createImageClassifier(dir, { config: config() });
    const inline = await createImageClassifier(dir, { config: config({ preprocessThreads: 0 }) });
    try {
      const [a, b] = await Promise.all([pooled.classify(image), inline.classify(image)]);
      expect(b).toEqual(a);
      await expect(inline.classify(new Uint8Array(0))).rejects.toMatchObject({ code: 'image_empty' });
      await expect(pooled.classify(new Uint8Array(0))).rejects.toMatchObject({ code: 'image_empty' });
    } finally {
      await Promise.all([pooled.close(), inline.close()]);
    }
  });

  it('close() finishes the requests already submitted', async () => {
    const classifier = await createImageClassifier(dir, { config: config({ maxDelayMs: 10_000 }) });
    const pending = classifier.classify(await png(0, 255, 0));
    await classifier.close();
    expect((await pending).label).toBe('disgust');
    await expect(classifier.classify(await png(0, 255, 0))).rejects.toThrow(/shutting down/);
  });
});
