// No face where there is none, with every profile's default detector: frames of ffmpeg's
// generated sources (test patterns, colour bars, fractals, cellular automata, noise, a counter)
// through the compact profile's detection (face-api's tiny detector confirmed by BlazeFace) and
// the vit profile's default detector (UltraFace RFB-320); and every fixture portrait's face still
// found by the compact profile's confirmed detector.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import type { FrameAnalyzer, RgbImage } from '../../../src/core/types.ts';
import { loadDetector, type OnnxFaceDetector } from '../../../src/inference/detectors/detector.ts';
import { installLocal } from '../../../src/inference/fetch/fetch.ts';
import { createProfileAnalyzer } from '../../../src/inference/profiles.ts';
import { mediaBinaries } from '../../../src/producer/index.ts';
import { readRgb } from '../detectors/raw-detect.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';

const W = 640;
const H = 480;
const FRAMES = 12;
const SOURCES = [
  'testsrc=size=640x480:rate=4',
  'testsrc2=size=640x480:rate=4',
  'smptebars=size=640x480:rate=4',
  'rgbtestsrc=size=640x480:rate=4',
  'mandelbrot=size=640x480:rate=4',
  'life=size=640x480:rate=4:mold=10:ratio=0.3',
  'cellauto=size=640x480:rate=4',
  'nullsrc=size=640x480:rate=4,geq=lum=random(1)*255:cb=128:cr=128',
  'gradients=size=640x480:rate=4',
];

function frames(source: string): RgbImage[] {
  const raw = execFileSync(mediaBinaries().ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', source, '-frames:v', String(FRAMES), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
  return Array.from({ length: raw.length / (W * H * 3) }, (_, i) => ({ data: raw.subarray(i * W * H * 3, (i + 1) * W * H * 3), width: W, height: H }));
}

describeWithShared('no face where there is none (every profile\'s default detector)', () => {
  let tmp: string;
  let compact: FrameAnalyzer;
  let ultraface: OnnxFaceDetector;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-no-face-'));
    const config = loadConfig({ FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu', FER_INTRA_OP_THREADS: '1' });
    compact = await createProfileAnalyzer(config, 'compact', {});
    await installLocal(sharedPath('models'), path.join(tmp, 'models'), ['ultraface']);
    ultraface = await loadDetector(path.join(tmp, 'models', config.faces.detector), {
      inference: config.inference,
      settings: { minFaceSize: config.faces.minFaceSize, maxFaces: config.faces.maxFacesPerFrame },
    });
  });
  afterAll(async () => {
    await compact?.close();
    await ultraface?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('finds no face in generated test patterns, fractals, automata, noise and gradients', async () => {
    expect(compact.info.detector).toBe('faceapi-tiny-face-detector (confirmed by blazeface-back)');
    const found: string[] = [];
    for (const source of SOURCES) {
      const images = frames(source);
      expect(images.length, source).toBe(FRAMES);
      for (const image of images) {
        const faces = (await compact.analyze(image)).faces.length;
        const ultra = (await ultraface.detect(image)).length;
        if (faces > 0 || ultra > 0) found.push(`${source.split('=')[0]}: compact ${faces}, ultraface ${ultra}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('still finds every fixture portrait\'s face, and the faces of the two-people and group photos', async () => {
    const expected: Record<string, number> = {
      'pexels_angry.jpg': 1,
      'pexels_surprised.jpg': 1,
      'pexels_neutral.jpg': 1,
      'pexels_sad_baby.jpg': 1,
      'pexels_happy_baby.jpg': 1,
      'wh_obama_portrait_smile.jpg': 1,
      'wh_obama_speaking.jpg': 1,
      'wh_biden_serious.jpg': 1,
      'grid_s1_bbaf2n_frame.png': 1,
      'wh_two_people.jpg': 2,
    };
    for (const [photo, faces] of Object.entries(expected)) {
      expect((await compact.analyze(await readRgb(sharedPath('fixtures', 'faces', photo)))).faces.length, photo).toBe(faces);
    }
    // face-api's tiny detector itself finds 4 of the group's 5 faces; the check keeps all 4.
    expect((await compact.analyze(await readRgb(sharedPath('fixtures', 'faces', 'pexels_group.jpg')))).faces.length).toBe(4);
  });
});
