// Decode damage is counted for every codec ffmpeg reports it for: lines ffmpeg really printed
// for corrupted MPEG-1, H.264, HEVC and VP9 encodes, and a damaged MPEG-1 file through the pipeline
// (ffmpeg says "skipped MB in I-frame", which the old phrase list counted as no damage at all).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { DecodeDamageCounter, isDecodeDamage } from '../../src/producer/decode-damage.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

describe('which ffmpeg lines are damage', () => {
  it.each([
    '[mpeg1video @ 0x55d0c1e6a2c0] skipped MB in I-frame at 17 16',
    '[mpeg1video @ 0x55d0c1e6a2c0] ac-tex damaged at 9 12',
    '[mpeg1video @ 0x55d0c1e6a2c0] invalid cbp -1 at 3 11',
    '[mpeg1video @ 0x55d0c1e6a2c0] Invalid mb type in P-frame at 11 15',
    '[mpeg1video @ 0x55d0c1e6a2c0] mb incr damaged',
    '[mpeg2video @ 0x55d0c1e6a2c0] end mismatch left=3284 4E6A54 at 0 18',
    '[mpeg2video @ 0x55d0c1e6a2c0] slice mismatch',
    '[h264 @ 0x5581a2b0] error while decoding MB 12 7, bytestream -5',
    '[h264 @ 0x5581a2b0] Reference 3 >= 2',
    '[h264 @ 0x5581a2b0] decode_slice_header error',
    '[hevc @ 0x5581a2b0] Could not find ref with POC 12',
    '[hevc @ 0x5581a2b0] Invalid number of merging MVP candidates: 9.',
    '[vp9 @ 0x5581a2b0] Invalid frame marker',
    '[NULL @ 0x5581a2b0] Invalid NAL unit size (4096 > 1200).',
    'Error while decoding stream #0:0: Invalid data found when processing input',
  ])('counts %s', (line) => {
    expect(isDecodeDamage(line)).toBe(true);
  });

  it.each([
    '[mpeg1video @ 0x55d0c1e6a2c0] Warning MVs not available',
    '[h264 @ 0x5581a2b0] concealing 300 DC, 300 AC, 300 MV errors in P frame',
    '[null @ 0x5581a2b0] Application provided invalid, non monotonically increasing dts to muxer in stream 0: 12 >= 12',
    '[swscaler @ 0x5581a2b0] deprecated pixel format used, make sure you did set range correctly',
  ])('does not count %s', (line) => {
    expect(isDecodeDamage(line)).toBe(false);
  });

  it('"Last message repeated N times" counts N more after a damage line, none after anything else', () => {
    const counter = new DecodeDamageCounter();
    counter.add('[h264 @ 0x1] error while decoding MB 1 1, bytestream -3');
    counter.add('    Last message repeated 4 times');
    counter.add(
      '[null @ 0x1] Application provided invalid, non monotonically increasing dts to muxer in stream 0: 1 >= 1',
    );
    counter.add('    Last message repeated 9 times');
    expect(counter.count).toBe(5);
  });
});

describeWithShared('a damaged MPEG-1 file through the pipeline', () => {
  const { prefix, cleanup } = testPrefix(import.meta.url);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-damage-'));
  const original = sharedPath('fixtures', 'video', 'grid_bbaf2n.mpg');
  const damaged = path.join(dir, 'damaged.mpg');
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;

  beforeAll(() => {
    const bytes = readFileSync(original);
    // Every 13th byte of 2 KB at the middle of the file overwritten: one I-frame slice damaged.
    const start = Math.floor((bytes.length * 49) / 100);
    for (let offset = start; offset < start + 2000; offset += 13) bytes[offset] = 0x55;
    writeFileSync(damaged, bytes);
    pipeline = createPipeline({
      redisUrl: redisUrl(),
      prefix,
      config: loadConfig({}, { pipeline: { chunkFrames: 8 } }).pipeline,
    });
    producer = startProducer(pipeline);
    worker = startWorker(pipeline, { analyzer: new CostFreeAnalyzer() });
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    await pipeline?.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ffmpeg reports it as an MPEG-1 macroblock error ("skipped MB in I-frame"), which the counter counts', () => {
    const { stderr } = spawnSync(
      'ffmpeg',
      ['-nostdin', '-loglevel', 'error', '-i', damaged, '-map', '0:v', '-f', 'null', '-'],
      { encoding: 'utf8' },
    );
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines.some((line) => line.includes('skipped MB in I-frame'))).toBe(true);
    const counter = new DecodeDamageCounter();
    for (const line of lines) counter.add(line);
    expect(counter.count).toBeGreaterThan(0);
  });

  it('every frame is sampled, the damage is counted and the result warns; the undamaged original has none', async () => {
    const { videoId } = await submitVideo(pipeline, { path: damaged, options: { fps: 25 } });
    const { videoId: cleanId } = await submitVideo(pipeline, { path: original, options: { fps: 25 } });
    await waitForVideos(pipeline, [videoId, cleanId], { timeoutMs: 60_000 });
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    expect(result.counts.sampled).toBe(75);
    expect(result.counts.decodeErrors).toBeGreaterThan(0);
    expect(result.warnings.join(' ')).toMatch(/ffmpeg reported \d+ decoding errors? in the video stream/);
    expect((await getVideoResult<VideoResult>(pipeline, cleanId))!.counts.decodeErrors).toBe(0);
  });
});
