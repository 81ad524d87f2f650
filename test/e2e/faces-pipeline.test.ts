// Faces through the whole pipeline: submit → producer (ffprobe, ffmpeg frames into Redis) → worker
// running the detect-then-classify analyzer (UltraFace at the default settings + a tiny classifier
// with the ViT's I/O contract) → aggregation with the face tracker → stored per-video result.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { DetectThenClassifyAnalyzer } from '../../src/inference/analyzers/detect-then-classify.ts';
import { createImageClassifier } from '../../src/inference/classifier.ts';
import { detectorThreshold } from '../../src/inference/detectors/defaults.ts';
import { loadDetector } from '../../src/inference/detectors/detector.ts';
import { installLocal } from '../../src/models/fetch/fetch.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { mediaBinaries, startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { faceTracker, toCsv, type VideoResult } from '../../src/results/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { writeTinyClassifierDir } from '../inference/fixtures/tiny-classifier.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const run = promisify(execFile);
const { prefix, cleanup } = testPrefix(import.meta.url);

describeWithShared('faces through the pipeline (Redis, producer, worker, aggregation)', () => {
  let tmp: string;
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;
  const config = loadConfig(
    {},
    { inference: { intraOpThreads: 1, executionProviders: ['cpu'] }, pipeline: { fps: 2 } },
  );

  const ffmpeg = (args: string[]) => run(mediaBinaries().ffmpeg, ['-y', '-v', 'error', ...args]);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-faces-pipeline-'));
    await installLocal(sharedPath('models'), path.join(tmp, 'models'), ['yunet']);
    const detector = await loadDetector(path.join(tmp, 'models', config.faces.detector), {
      inference: config.inference,
      settings: {
        scoreThreshold: detectorThreshold(config.faces.detector, undefined),
        minFaceSize: config.faces.minFaceSize,
        maxFaces: config.faces.maxFacesPerFrame,
      },
    });
    const classifier = await createImageClassifier(await writeTinyClassifierDir(path.join(tmp, 'tiny')), {
      config: config.inference,
    });
    const analyzer = new DetectThenClassifyAnalyzer({ detector, classifier, cropMargin: config.faces.cropMargin });
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    producer = startProducer(pipeline);
    worker = startWorker(pipeline, {
      analyzer,
      concurrency: 4,
      finalizeOptions: {
        assignTracks: faceTracker({ iouThreshold: config.faces.trackIou, maxGap: config.faces.trackMaxGap }),
      },
    });
  });
  afterAll(async () => {
    await producer?.close();
    await worker?.close(); // closes the analyzer
    await pipeline?.close();
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  async function analyse(files: string[]): Promise<VideoResult[]> {
    const ids = [];
    for (const file of files) ids.push((await submitVideo(pipeline, { path: file })).videoId);
    const statuses = await waitForVideos(pipeline, ids, { timeoutMs: 240_000, pollMs: 100 });
    for (const id of ids)
      expect(statuses.get(id)!.state, `${statuses.get(id)!.name}: ${statuses.get(id)!.error?.message}`).toBe(
        'completed',
      );
    return Promise.all(ids.map(async (id) => (await getVideoResult<VideoResult>(pipeline, id))!));
  }

  it('GRID videos: one face in every sampled frame, one track, boxes in video pixels; a face/colour/face cut: exact no-face frames and share; two people: two stable tracks', async () => {
    const face = sharedPath('fixtures', 'faces', 'wh_obama_portrait_smile.jpg');
    // Cut video: 2.25 s face, 2 s blue, 2.25 s face at 20 fps. A 2 fps sample stamped t shows a source
    // frame from [t − 0.25, t + 0.25), so the cuts fall between sample windows: 2.5 … 4.0 s are blue.
    const cut = path.join(tmp, 'cut.mp4');
    const still = (i: number) =>
      `[${i}]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=20,format=yuv420p[v${i}]`;
    await ffmpeg([
      ...['-loop', '1', '-t', '2.25', '-i', face],
      ...['-f', 'lavfi', '-t', '2', '-i', 'color=c=0x3050a0:s=640x480:r=20'],
      ...['-loop', '1', '-t', '2.25', '-i', face],
      '-filter_complex',
      `${still(0)};[1]setsar=1,format=yuv420p[v1];${still(2)};[v0][v1][v2]concat=n=3:v=1:a=0[out]`,
      ...['-map', '[out]', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', cut],
    ]);
    // Two people side by side, drifting slowly, 1280x720 (scaled to the 640 working resolution).
    const two = path.join(tmp, 'two.mp4');
    await ffmpeg([
      ...['-f', 'lavfi', '-t', '4', '-i', 'color=c=0x808080:s=1280x720:r=10'],
      ...['-loop', '1', '-i', face],
      ...['-loop', '1', '-i', sharedPath('fixtures', 'faces', 'wh_biden_serious.jpg')],
      '-filter_complex',
      '[1]scale=-2:520,setsar=1[a];[2]crop=iw:iw*1.2:0:0,scale=-2:520,setsar=1[b];' +
        "[0][a]overlay=x='60+12*t':y=100:shortest=1[ab];[ab][b]overlay=x='760-10*t':y='90+5*t':shortest=1,format=yuv420p[out]",
      ...['-map', '[out]', '-t', '4', '-c:v', 'libx264', two],
    ]);

    const [gridA, gridB, cutResult, twoResult] = await analyse([
      sharedPath('fixtures', 'video', 'grid_bbaf2n.mpg'),
      sharedPath('fixtures', 'video', 'grid_lwbsza.mpg'),
      cut,
      two,
    ]);

    for (const grid of [gridA!, gridB!]) {
      expect(grid.frames).toHaveLength(6);
      for (const frame of grid.frames) {
        expect(frame.faces, `frame ${frame.index}`).toHaveLength(1);
        expect(frame.faces[0]!.trackId).toBe(1);
        expect(frame.faces[0]!.detectorScore).toBeGreaterThanOrEqual(0.7);
        expect(frame.faces[0]!.probabilities).toHaveLength(7);
      }
      expect(grid.counts).toMatchObject({ withoutFace: 0, faceVisibleShare: 1, tracks: 1 });
      expect(grid.model.detector).toBe('yunet-s-dynamic');
    }

    const noFace = cutResult!.frames.filter((f) => f.faces.length === 0).map((f) => f.timestamp);
    expect(noFace).toEqual([2.5, 3, 3.5, 4]);
    for (const f of cutResult!.frames)
      if (!noFace.includes(f.timestamp)) expect(f.faces, `t=${f.timestamp}`).toHaveLength(1);
    expect(cutResult!.counts.withoutFace).toBe(4);
    expect(cutResult!.counts.faceVisibleShare).toBeCloseTo(
      (cutResult!.frames.length - 4) / cutResult!.frames.length,
      10,
    );
    for (const f of cutResult!.frames) if (f.faces.length === 0) expect(f.probabilities).toBeNull();

    expect(twoResult!.frames).toHaveLength(8);
    for (const frame of twoResult!.frames) {
      const [left, right] = [...frame.faces].sort((p, q) => p.box.x - q.box.x);
      expect(frame.faces).toHaveLength(2);
      expect([left!.trackId, right!.trackId]).toEqual([1, 2]);
      // Boxes in the 1280x720 video's pixels, not the 640x360 working frame's: the right face starts near x = 760.
      expect(right!.box.x).toBeGreaterThan(700);
      expect(right!.box.x + right!.box.width).toBeLessThanOrEqual(1280);
    }
    expect(twoResult!.tracks.map((t) => [t.trackId, t.frames])).toEqual([
      [1, 8],
      [2, 8],
    ]);
    // CSV: one row per face per frame, no-face frames included as such.
    const csvRows = toCsv(twoResult!).trim().split('\n');
    expect(csvRows.length - 1).toBe(16);
  });

  it('a rotated phone video: boxes in the displayed (rotated) video pixels, not the stored or working ones', async () => {
    // Stored 1280x720 with a display rotation of 90°: displayed 720x1280 (working frame 360x640).
    // The portrait photo is placed upright in the displayed picture at (80, 100), 560 px tall.
    const stored = path.join(tmp, 'stored.mp4');
    const rotated = path.join(tmp, 'rotated.mp4');
    await ffmpeg([
      ...['-f', 'lavfi', '-t', '1', '-i', 'color=c=0x808080:s=720x1280:r=10'],
      ...['-loop', '1', '-i', sharedPath('fixtures', 'faces', 'wh_obama_portrait_smile.jpg')],
      '-filter_complex',
      '[1]scale=-2:560,setsar=1[a];[0][a]overlay=x=80:y=100:shortest=1,transpose=1,format=yuv420p[out]',
      ...['-map', '[out]', '-t', '1', '-c:v', 'libx264', stored],
    ]);
    await ffmpeg(['-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const [result] = await analyse([rotated]);
    expect(result!.video).toMatchObject({ width: 720, height: 1280, rotation: expect.any(Number) });
    // The face in the 910x1137 photo is at about (374, 82) 232x330 (both detectors agree); scaled
    // by 560/1137, moved by (80, 100).
    const k = 560 / 1137;
    const expected = { x: 80 + 374 * k, y: 100 + 82 * k, width: 232 * k, height: 330 * k };
    for (const frame of result!.frames) {
      expect(frame.faces).toHaveLength(1);
      const box = frame.faces[0]!.box;
      const ix = Math.max(0, Math.min(box.x + box.width, expected.x + expected.width) - Math.max(box.x, expected.x));
      const iy = Math.max(0, Math.min(box.y + box.height, expected.y + expected.height) - Math.max(box.y, expected.y));
      const iou = (ix * iy) / (box.width * box.height + expected.width * expected.height - ix * iy);
      expect(iou, JSON.stringify(box)).toBeGreaterThanOrEqual(0.5);
    }
  });
});
