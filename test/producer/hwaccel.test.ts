// Hardware decoding (FER_DECODE_HWACCEL): auto picks a method only where ffmpeg has it and its
// device is present; a method that cannot decode here falls back to software with one log line for
// the process, and the videos are produced exactly as in software. (CI has no GPU: the fallback is
// what runs there; on a machine with an NVIDIA device the failing-method tests are skipped.)
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { DEFAULT_ALLOWED_CONTAINERS } from '../../src/config/pipeline.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { hwaccelFor, resetHwaccelTrials, resolveHwaccel } from '../../src/producer/hwaccel.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { CostFreeAnalyzer, startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

const NO_NVIDIA = !existsSync('/dev/nvidiactl');

function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    logger: pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
  };
}

describe('choosing the method', () => {
  beforeEach(() => resetHwaccelTrials());

  it('none is none; a named method is taken as named; auto takes cuda or vaapi only where its device node is', async () => {
    expect(await resolveHwaccel('none')).toBeNull();
    expect(await resolveHwaccel('vaapi')).toBe('vaapi');
    expect(await resolveHwaccel('auto', () => false)).toBeNull();
    // Debian's ffmpeg is built with both.
    expect(await resolveHwaccel('auto', (p) => p === '/dev/dri/renderD128')).toBe('vaapi');
    expect(await resolveHwaccel('auto', () => true)).toBe('cuda');
  });

  it.skipIf(!NO_NVIDIA || existsSync('/dev/dri/renderD128'))(
    'auto picks none on this machine (no GPU device)',
    async () => {
      expect(await resolveHwaccel('auto')).toBeNull();
    },
  );
});

describe.skipIf(!NO_NVIDIA)('a method that cannot decode here', () => {
  const { prefix, cleanup } = testPrefix(import.meta.url);
  let tmp: string;
  let videos: string[];
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;
  const { logger, lines } = capturingLogger();

  beforeAll(async () => {
    resetHwaccelTrials();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-hwaccel-'));
    videos = [1, 2].map((i) => {
      const file = path.join(tmp, `clip-${i}.mp4`);
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=320x240:rate=25:duration=${i + 1}`,
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        file,
      ]);
      return file;
    });
    const config = loadConfig({ FER_DECODE_HWACCEL: 'cuda' }, { pipeline: { chunkFrames: 4 } });
    expect(config.pipeline.decodeHwaccel).toBe('cuda');
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    producer = startProducer(pipeline, { logger });
    worker = startWorker(pipeline, { analyzer: new CostFreeAnalyzer() });
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    await pipeline?.close();
    await cleanup();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('hwaccelFor says null (software) and logs why, once per method and codec', async () => {
    const { logger: own, lines: said } = capturingLogger();
    expect(await hwaccelFor('cuda', videos[0]!, 'h264', DEFAULT_ALLOWED_CONTAINERS, own)).toBeNull();
    expect(await hwaccelFor('cuda', videos[1]!, 'h264', DEFAULT_ALLOWED_CONTAINERS, own)).toBeNull();
    expect(said.filter((l) => l.level === 40)).toHaveLength(1);
    expect(String(said[0]!.msg)).toMatch(
      /^hardware decoding \(cuda\) is not available for h264 here \(.+\): decoding in software$/,
    );
  });

  it('videos are produced in software, every frame, with one warning for the process', async () => {
    resetHwaccelTrials();
    const ids = [];
    for (const file of videos) ids.push((await submitVideo(pipeline, { path: file, options: { fps: 4 } })).videoId);
    await waitForVideos(pipeline, ids, { timeoutMs: 60_000 });
    const results = await Promise.all(ids.map(async (id) => (await getVideoResult<VideoResult>(pipeline, id))!));
    expect(results.map((r) => [r.counts.sampled, r.counts.analysed, r.counts.failed])).toEqual([
      [8, 8, 0],
      [12, 12, 0],
    ]);
    const warnings = lines.filter((l) => l.level === 40 && /hardware decoding/.test(String(l.msg)));
    expect(warnings).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'producing frames').map((l) => l.hwaccel)).toEqual(['none', 'none']);
  });
});
