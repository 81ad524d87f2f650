// Parity with the original: face-api's own networks (tfjs, CPU backend) and our converted ONNX
// models on the same inputs, on real photographs from ../shared/fixtures/faces.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import type { RgbImage } from '../../../src/core/types.ts';
import { createInferenceHost, hostOptionsFromConfig } from '../../../src/inference/backend/index.ts';
import { loadTinyFaceDetector, type TinyFaceDetector } from '../../../src/inference/detectors/tiny-face.ts';
import { buildFaceApiModels, type BuildResult } from '../../../src/models/faceapi/convert.ts';
import { EXPRESSION_MEAN_RGB } from '../../../src/models/faceapi/networks.ts';
import type { InferenceHost } from '../../../src/inference/types.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { loadFaceApi, referenceDetect, referenceExpressions } from './face-api-reference.ts';
import { clampToImage, crop, decode } from './photos.ts';

const PHOTOS = [
  'pexels_angry.jpg',
  'pexels_surprised.jpg',
  'pexels_neutral.jpg',
  'pexels_sad_baby.jpg',
  'pexels_happy_baby.jpg',
  'pexels_group.jpg',
  'wh_obama_portrait_smile.jpg',
  'wh_obama_speaking.jpg',
  'wh_biden_serious.jpg',
  'wh_two_people.jpg',
  'grid_s1_bbaf2n_frame.png',
];

const softmax = (logits: ArrayLike<number>): number[] => {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};

describeWithShared('face-api parity: converted ONNX models vs face-api on tfjs', () => {
  let dir: string;
  let models: BuildResult;
  let detector: TinyFaceDetector;
  let expressionHost: InferenceHost;
  const images = new Map<string, RgbImage>();
  // face-api's detections, computed once per photo (tfjs on the CPU is slow) and shared by both tests.
  const referenceFaces = new Map<string, ReturnType<typeof referenceDetect>>();
  const referenceFor = (photo: string) => {
    if (!referenceFaces.has(photo)) referenceFaces.set(photo, referenceDetect(images.get(photo)!, 416, 0.5));
    return referenceFaces.get(photo)!;
  };
  const inference = loadConfig({}, { inference: { executionProviders: ['cpu'], intraOpThreads: 1 } }).inference;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fer-faceapi-parity-'));
    models = await buildFaceApiModels(dir);
    detector = await loadTinyFaceDetector(models.detectorDir, {
      settings: { minFaceSize: 0, maxFaces: 100 },
      inference,
    });
    expressionHost = await createInferenceHost(
      hostOptionsFromConfig(inference, path.join(models.expressionDir, 'onnx', 'model.onnx')),
    );
    for (const photo of PHOTOS) images.set(photo, await decode(sharedPath('fixtures', 'faces', photo)));
    await loadFaceApi();
  });

  afterAll(async () => {
    await detector?.close();
    await expressionHost?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('detector: same faces, boxes within 1 pixel, scores within 1e-3 on every fixture photo', async () => {
    let faces = 0;
    let worstBox = 0;
    let worstScore = 0;
    for (const photo of PHOTOS) {
      const image = images.get(photo)!;
      const [ours, reference] = await Promise.all([detector.detect(image), referenceFor(photo)]);
      expect(ours.length, `${photo}: number of faces`).toBe(reference.length);
      expect(ours.length, `${photo}: at least one face`).toBeGreaterThan(0);
      reference.forEach((ref, i) => {
        const mine = ours[i]!;
        const want = clampToImage(ref.box, image);
        expect(Math.abs(mine.score - ref.score), `${photo} face ${i} score`).toBeLessThan(1e-3);
        worstScore = Math.max(worstScore, Math.abs(mine.score - ref.score));
        for (const key of ['x', 'y', 'width', 'height'] as const) {
          worstBox = Math.max(worstBox, Math.abs(mine.box[key] - want[key]));
          expect(Math.abs(mine.box[key] - want[key]), `${photo} face ${i} ${key}`).toBeLessThan(1);
        }
      });
      faces += ours.length;
    }
    console.log(
      `detector parity: ${faces} faces on ${PHOTOS.length} photos, largest box difference ${worstBox.toExponential(2)} px, score ${worstScore.toExponential(2)}`,
    );
    expect(faces).toBeGreaterThanOrEqual(PHOTOS.length + 4);
  }, 600_000);

  it('expression net: probabilities within 1e-4 on at least 10 real face crops', async () => {
    const faceapi = await loadFaceApi();
    const size = 112;
    let compared = 0;
    let worst = 0;
    for (const photo of PHOTOS) {
      const image = images.get(photo)!;
      for (const face of await referenceFor(photo)) {
        const faceCrop = crop(image, clampToImage(face.box, image));
        if (faceCrop.width < 8 || faceCrop.height < 8) continue;
        const reference = await referenceExpressions(faceCrop);
        // The network's input as face-api builds it (centred black padding, tfjs bilinear resize), in
        // our model directory's normalisation: pixel/255 − mean/255, NCHW.
        const tensor = faceapi.tf.tensor3d(
          Int32Array.from(faceCrop.data),
          [faceCrop.height, faceCrop.width, 3],
          'int32',
        );
        const netInput = await faceapi.toNetInput(tensor);
        const batch = netInput.toBatchTensor(size, true);
        const hwc = (await batch.data()) as Float32Array;
        batch.dispose();
        tensor.dispose();
        const nchw = new Float32Array(3 * size * size);
        for (let i = 0; i < size * size; i++)
          for (let c = 0; c < 3; c++) nchw[c * size * size + i] = hwc[i * 3 + c]! / 255 - EXPRESSION_MEAN_RGB[c]! / 255;
        const { logits } = await expressionHost.run({ pixel_values: { data: nchw, dims: [1, 3, size, size] } });
        const ours = softmax(logits!.data);
        ours.forEach((p, k) => {
          worst = Math.max(worst, Math.abs(p - reference[k]!));
          expect(Math.abs(p - reference[k]!), `${photo} class ${k}`).toBeLessThan(1e-4);
        });
        compared++;
      }
    }
    console.log(`expression parity: ${compared} face crops, largest probability difference ${worst.toExponential(2)}`);
    expect(compared).toBeGreaterThanOrEqual(10);
  }, 600_000);
});
