import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capacity } from '../../bench/capacity.ts';

const inputs = JSON.parse(readFileSync(new URL('../../bench/capacity/inputs.json', import.meta.url), 'utf8'));

describe('capacity model', () => {
  it('workers from frames/s at 70 % headroom; Redis traffic twice the frame bytes; more shards only when one node cannot carry it', () => {
    const rows = capacity(inputs, { hours: 100, fps: 2, width: 640, height: 360, faces: 1, source: '1080p' });
    const int8 = rows.find((r) => r.worker.startsWith('vit int8'))!;
    const int8PerWorker = Object.entries(inputs.workerFramesPerSecond as Record<string, { value: number }>).find(
      ([name]) => name.startsWith('vit int8'),
    )![1].value;
    expect(int8.framesPerSecond).toBe(200);
    expect(int8.workers).toBe(Math.ceil(200 / (int8PerWorker * 0.7)));
    expect(int8.redisMBPerSecond).toBe(Math.round((200 * (2 * 640 * 360 * 3 + 49 + 276)) / 1e6));
    expect(int8.redisShards).toBe(1);
    expect(rows.find((r) => r.worker.includes('GPU'))!.estimate).toBe(true);
    // Three faces per frame triple the model's work, not the bytes.
    const crowd = capacity(inputs, { hours: 100, fps: 2, width: 640, height: 360, faces: 3, source: '1080p' }).find(
      (r) => r.worker.startsWith('vit int8'),
    )!;
    expect(crowd.workers).toBe(Math.ceil(200 / ((int8PerWorker / 3) * 0.7)));
    expect(crowd.redisMBPerSecond).toBe(int8.redisMBPerSecond);
    expect(
      capacity(inputs, { hours: 1000, fps: 5, width: 640, height: 360, faces: 1, source: '1080p' })[0]!.redisShards,
    ).toBeGreaterThan(1);
  });

  it('producer cores: ffmpeg decodes every frame of the source, so they grow with its resolution and the hours, barely with the sampling rate', () => {
    const cores = (source: string, fps: number) =>
      capacity(inputs, { hours: 100, fps, width: 640, height: 360, faces: 1, source })[0]!.producerCores;
    const perFrame = (200 * 0.523 * ((640 * 360) / (224 * 224))) / 1000;
    expect(cores('1080p', 2)).toBeCloseTo(Math.ceil(((100 * 0.105 + perFrame) / 0.7) * 10) / 10, 6);
    expect(cores('1080p', 2)).toBeGreaterThan(cores('720p', 2));
    expect(cores('720p', 2)).toBeGreaterThan(cores('360p', 2));
    // Five times the sampling rate: the decode stays, only the per-frame part grows.
    expect(cores('1080p', 10) / cores('1080p', 2)).toBeLessThan(2);
    expect(() => capacity(inputs, { hours: 1, fps: 2, width: 640, height: 360, faces: 1, source: '4k' })).toThrow(
      /no decode figure for 4k/,
    );
  });

  it('sparse sampling: from one sample per 5 s producers seek to each sample, so their cores follow the sampling rate', () => {
    const cores = (source: string, fps: number) =>
      capacity(inputs, { hours: 100, fps, width: 640, height: 360, faces: 1, source })[0]!.producerCores;
    const perFrame = (fps: number) => (100 * fps * 0.523 * ((640 * 360) / (224 * 224))) / 1000;
    // 0.2 frames/s of 1080p: 0.3 CPU s per sample × 0.2 samples per second of video, not 0.105 s of full decode.
    expect(cores('1080p', 0.2)).toBeCloseTo(Math.ceil(((100 * 0.3 * 0.2 + perFrame(0.2)) / 0.7) * 10) / 10, 6);
    expect(cores('1080p', 0.1)).toBeLessThan(cores('1080p', 0.2));
    // One sample per 2 s still decodes every frame; 720p has no seeking figure, so its full decode stays.
    expect(cores('1080p', 0.5)).toBeCloseTo(Math.ceil(((100 * 0.105 + perFrame(0.5)) / 0.7) * 10) / 10, 6);
    expect(cores('720p', 0.1)).toBeCloseTo(Math.ceil(((100 * 0.057 + perFrame(0.1)) / 0.7) * 10) / 10, 6);
  });
});
