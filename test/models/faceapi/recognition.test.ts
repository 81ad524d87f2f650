// face-api's recognition net converted to ONNX: the same descriptors as face-api on tfjs for real
// face crops, and through FaceEmbedder (our preprocessing, batching, threads) the same person in two
// different photographs lies within face-api's match distance while different people do not.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import type { Box, RgbImage } from '../../../src/core/types.ts';
import { createInferenceHost, hostOptionsFromConfig } from '../../../src/inference/backend/index.ts';
import { loadTinyFaceDetector, type TinyFaceDetector } from '../../../src/inference/detectors/tiny-face.ts';
import { createFaceEmbedder, type FaceEmbedder } from '../../../src/inference/face-embedder.ts';
import type { InferenceHost } from '../../../src/inference/types.ts';
import { buildFaceApiModels } from '../../../src/models/faceapi/convert.ts';
import { EXPRESSION_MEAN_RGB } from '../../../src/models/faceapi/networks.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { loadFaceApi, referenceDescriptor } from './face-api-reference.ts';
import { clampToImage, crop, decode } from './photos.ts';

const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.hypot(...Array.from(a, (v, i) => v - b[i]!));

describeWithShared('face-api recognition net: converted ONNX vs face-api on tfjs', () => {
  let dir: string;
  let recognitionDir: string;
  let detector: TinyFaceDetector;
  let host: InferenceHost;
  let embedder: FaceEmbedder;
  const inference = loadConfig({}, { inference: { executionProviders: ['cpu'], intraOpThreads: 1 } }).inference;

  /** The largest face of a fixture photo (our converted tiny detector, proven equal to face-api's elsewhere). */
  async function largestFace(photo: string): Promise<RgbImage> {
    const image = await decode(sharedPath('fixtures', 'faces', photo));
    const faces = await detector.detect(image);
    const box: Box = faces.reduce((a, b) => (a.box.width * a.box.height >= b.box.width * b.box.height ? a : b)).box;
    return crop(image, clampToImage(box, image));
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fer-faceapi-recognition-'));
    const models = await buildFaceApiModels(dir);
    recognitionDir = models.recognitionDir;
    detector = await loadTinyFaceDetector(models.detectorDir, {
      settings: { minFaceSize: 0, maxFaces: 100 },
      inference,
    });
    host = await createInferenceHost(hostOptionsFromConfig(inference, path.join(recognitionDir, 'model.onnx')));
    embedder = await createFaceEmbedder(recognitionDir, { config: inference });
    await loadFaceApi();
  });

  afterAll(async () => {
    await Promise.all([detector?.close(), host?.close(), embedder?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('descriptors within 1e-4 of face-api on real face crops (same 150×150 input)', async () => {
    const faceapi = await loadFaceApi();
    const size = 150;
    let worst = 0;
    const photos = [
      'wh_obama_portrait_smile.jpg',
      'wh_biden_serious.jpg',
      'pexels_neutral.jpg',
      'grid_s1_bbaf2n_frame.png',
    ];
    for (const photo of photos) {
      const face = await largestFace(photo);
      // face-api's own input (centred black padding, tfjs bilinear resize to 150), as our graph takes it.
      const tensor = faceapi.tf.tensor3d(Int32Array.from(face.data), [face.height, face.width, 3], 'int32');
      const batch = (await faceapi.toNetInput(tensor)).toBatchTensor(size, true);
      const hwc = (await batch.data()) as Float32Array;
      batch.dispose();
      tensor.dispose();
      const nchw = new Float32Array(3 * size * size);
      for (let i = 0; i < size * size; i++)
        for (let c = 0; c < 3; c++) nchw[c * size * size + i] = (hwc[i * 3 + c]! - EXPRESSION_MEAN_RGB[c]!) / 255;
      const { embedding } = await host.run({ pixel_values: { data: nchw, dims: [1, 3, size, size] } });
      const reference = await referenceDescriptor(face);
      expect(embedding!.dims).toEqual([1, 128]);
      for (let k = 0; k < 128; k++) worst = Math.max(worst, Math.abs(embedding!.data[k]! - reference[k]!));
    }
    console.log(`recognition parity: ${photos.length} faces, largest descriptor difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  }, 600_000);

  it('FaceEmbedder: one person in two photographs within 0.6, different people beyond it', async () => {
    const photos = [
      'wh_obama_portrait_smile.jpg',
      'wh_obama_speaking.jpg',
      'wh_biden_serious.jpg',
      'pexels_neutral.jpg',
      'pexels_angry.jpg',
      'grid_s1_bbaf2n_frame.png',
    ];
    const embeddings = await Promise.all(photos.map(async (photo) => embedder.embed(await largestFace(photo))));
    const same = distance(embeddings[0]!, embeddings[1]!);
    const different: number[] = [];
    for (let i = 1; i < photos.length; i++)
      for (let j = i + 1; j < photos.length; j++) different.push(distance(embeddings[i]!, embeddings[j]!));
    for (let j = 2; j < photos.length; j++) different.push(distance(embeddings[0]!, embeddings[j]!));
    console.log(
      `same person ${same.toFixed(3)}; different people ${Math.min(...different).toFixed(3)}..${Math.max(...different).toFixed(3)}`,
    );
    expect(same).toBeLessThan(0.6);
    expect(Math.min(...different)).toBeGreaterThan(0.6);
  }, 120_000);
});
