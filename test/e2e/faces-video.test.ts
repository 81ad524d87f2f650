// Faces over whole videos: the producer's ffmpeg frame stream → detect-then-classify (UltraFace
// at its defaults + a tiny classifier with the ViT's I/O contract) → tracker → per-video result.
// Runs without Redis: the queue transport between these stages is tested by the pipeline's own
// tests; here what matters is what the faces stage makes of real and generated videos.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { FrameResult } from '../../src/core/types.ts';
import { DetectThenClassifyAnalyzer } from '../../src/inference/analyzers/detect-then-classify.ts';
import { createImageClassifier } from '../../src/inference/classifier.ts';
import { loadDetector } from '../../src/inference/detectors/detector.ts';
import { installLocal } from '../../src/inference/fetch/fetch.ts';
import { extractFrames, mediaBinaries, probeVideo, workingSize } from '../../src/producer/index.ts';
import { buildVideoResult, faceTracker, scaleFaceBoxes, type VideoResult } from '../../src/results/index.ts';
import { writeTinyClassifierDir } from '../inference/fixtures/tiny-classifier.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const run = promisify(execFile);
const FPS = 2;

describeWithShared('faces over videos', () => {
  let tmp: string;
  let analyzer: DetectThenClassifyAnalyzer;
  const config = loadConfig({}, { inference: { intraOpThreads: 1, executionProviders: ['cpu'] } });

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-faces-video-'));
    const modelsDir = path.join(tmp, 'models');
    await installLocal(sharedPath('models'), modelsDir, ['ultraface']);
    // The default detector at its default settings.
    const detector = await loadDetector(path.join(modelsDir, config.faces.detector), {
      inference: config.inference,
      settings: { minFaceSize: config.faces.minFaceSize, maxFaces: config.faces.maxFacesPerFrame },
    });
    const classifier = await createImageClassifier(await writeTinyClassifierDir(path.join(tmp, 'tiny')), { config: config.inference });
    analyzer = new DetectThenClassifyAnalyzer({ detector, classifier, cropMargin: config.faces.cropMargin });
  });
  afterAll(async () => {
    await analyzer?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  /** Samples `file` at FPS, analyses every frame concurrently, builds the per-video result with tracks. */
  async function analyseVideo(file: string): Promise<VideoResult> {
    const probe = await probeVideo(file, { maxDurationSeconds: 600, maxFileBytes: 1e9, maxSourcePixels: 1e8 });
    const pending: Array<Promise<FrameResult>> = [];
    for await (const frame of extractFrames(file, probe, { fps: FPS, maxSide: config.pipeline.frameMaxSide })) {
      const image = { data: new Uint8Array(frame.data), width: frame.width, height: frame.height };
      pending.push(analyzer.analyze(image).then((a) => ({ index: frame.index, timestamp: frame.timestamp, faces: a.faces })));
    }
    const frames = scaleFaceBoxes(await Promise.all(pending), workingSize(probe, config.pipeline.frameMaxSide), probe);
    return buildVideoResult({
      videoId: path.basename(file),
      frames,
      video: { ...probe },
      model: analyzer.info,
      aggregation: { frameInterval: 1 / FPS },
      assignTracks: faceTracker({ iouThreshold: config.faces.trackIou, maxGap: config.faces.trackMaxGap }),
    });
  }

  async function ffmpeg(args: string[]): Promise<void> {
    await run(mediaBinaries().ffmpeg, ['-y', '-v', 'error', ...args]);
  }

  for (const name of ['grid_bbaf2n.mpg', 'grid_lwbsza.mpg']) {
    it(`${name}: one face in every sampled frame, all in one track`, async () => {
      const result = await analyseVideo(sharedPath('fixtures', 'video', name));
      expect(result.frames.length).toBeGreaterThanOrEqual(5);
      for (const frame of result.frames) expect(frame.faces, `frame ${frame.index}`).toHaveLength(1);
      expect(result.counts).toMatchObject({ withoutFace: 0, faceVisibleShare: 1, tracks: 1 });
      expect(new Set(result.frames.map((f) => f.faces[0]!.trackId))).toEqual(new Set([1]));
      expect(result.tracks).toHaveLength(1);
      expect(result.tracks[0]!.frames).toBe(result.frames.length);
      // Boxes in the video's pixels (360x288 here), inside the picture.
      for (const frame of result.frames) {
        const box = frame.faces[0]!.box;
        expect(box.x + box.width).toBeLessThanOrEqual(360 + 1);
        expect(box.y + box.height).toBeLessThanOrEqual(288 + 1);
        expect(box.width).toBeGreaterThan(40);
      }
    });
  }

  it('a video cutting from a face to a plain colour and back: the colour frames are no-face frames, the share is right', async () => {
    const file = path.join(tmp, 'cut.mp4');
    const face = sharedPath('fixtures', 'faces', 'wh_obama_portrait_smile.jpg');
    // 2.25 s face, 2 s blue, 2.25 s face at 20 fps. Sampling at 2 fps takes, for the frame stamped
    // t, a source frame from [t − 0.25, t + 0.25): cuts at 2.25 s and 4.25 s fall exactly between
    // those windows, so the frames stamped 2.5 … 4.0 s show only blue and every other only the face.
    const still = (i: number) => `[${i}]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=20,format=yuv420p[v${i}]`;
    await ffmpeg([
      ...['-loop', '1', '-t', '2.25', '-i', face],
      ...['-f', 'lavfi', '-t', '2', '-i', 'color=c=0x3050a0:s=640x480:r=20'],
      ...['-loop', '1', '-t', '2.25', '-i', face],
      '-filter_complex',
      `${still(0)};[1]setsar=1,format=yuv420p[v1];${still(2)};[v0][v1][v2]concat=n=3:v=1:a=0[out]`,
      ...['-map', '[out]', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file],
    ]);
    const result = await analyseVideo(file);
    const noFace = result.frames.filter((f) => f.faces.length === 0).map((f) => f.timestamp);
    expect(noFace).toEqual([2.5, 3, 3.5, 4]);
    for (const f of result.frames) if (!noFace.includes(f.timestamp)) expect(f.faces, `t=${f.timestamp}`).toHaveLength(1);
    expect(result.counts.withoutFace).toBe(4);
    expect(result.counts.faceVisibleShare).toBeCloseTo((result.frames.length - 4) / result.frames.length, 10);
    expect(result.segments.map((s) => s.kind)).toContain('no_face');
    // No-face frames carry no probabilities: they were never classified.
    for (const f of result.frames) if (f.faces.length === 0) expect(f.probabilities).toBeNull();
  });

  it('two different people side by side, moving slightly: two tracks with stable ids across all frames', async () => {
    const file = path.join(tmp, 'two.mp4');
    const left = sharedPath('fixtures', 'faces', 'wh_obama_portrait_smile.jpg');
    const right = sharedPath('fixtures', 'faces', 'wh_biden_serious.jpg');
    await ffmpeg([
      ...['-f', 'lavfi', '-t', '4', '-i', 'color=c=0x808080:s=1280x720:r=10'],
      ...['-loop', '1', '-i', left],
      ...['-loop', '1', '-i', right],
      '-filter_complex',
      '[1]scale=-2:520,setsar=1[a];[2]crop=iw:iw*1.2:0:0,scale=-2:520,setsar=1[b];' +
        "[0][a]overlay=x='60+12*t':y=100:shortest=1[ab];[ab][b]overlay=x='760-10*t':y='90+5*t':shortest=1,format=yuv420p[out]",
      ...['-map', '[out]', '-t', '4', '-c:v', 'libx264', file],
    ]);
    const result = await analyseVideo(file);
    expect(result.frames).toHaveLength(8);
    for (const frame of result.frames) {
      expect(frame.faces, `frame ${frame.index}`).toHaveLength(2);
      const [a, b] = [...frame.faces].sort((p, q) => p.box.x - q.box.x);
      expect([a!.trackId, b!.trackId]).toEqual([1, 2]);
    }
    expect(result.counts.tracks).toBe(2);
    expect(result.tracks.map((t) => t.frames)).toEqual([8, 8]);
  });
});
