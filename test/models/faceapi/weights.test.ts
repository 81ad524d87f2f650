import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { halfToFloat, readWeights } from '../../../src/models/faceapi/weights.ts';
import { faceApiModelDir, loadFaceApi } from './face-api-reference.ts';

describe('face-api weight manifests', () => {
  it('dequantise to exactly the tensors face-api loads with tfjs', async () => {
    const faceapi = await loadFaceApi();
    const cases = [
      ['tiny_face_detector_model', faceapi.nets.tinyFaceDetector],
      ['face_expression_model', faceapi.nets.faceExpressionNet],
    ] as const;
    for (const [modelName, net] of cases) {
      const ours = await readWeights(faceApiModelDir, modelName);
      // The expression net keeps its feature extractor's parameters in a nested network.
      const params = [...net.getParamList(), ...(net.faceFeatureExtractor?.getParamList() ?? [])] as {
        path: string;
        tensor: { shape: number[]; dataSync(): Float32Array };
      }[];
      expect(params.length).toBe(ours.size);
      for (const { path: name, tensor } of params) {
        const mine = ours.get(name);
        expect(mine, name).toBeDefined();
        expect(mine!.shape).toEqual(tensor.shape);
        expect(
          Buffer.from(mine!.data.buffer, mine!.data.byteOffset, mine!.data.byteLength).equals(
            Buffer.from(tensor.dataSync().buffer),
          ),
        ).toBe(true);
      }
    }
  });

  describe('bad manifests', () => {
    let dir: string;
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('name the tensor whose bytes the shards lack, and a missing manifest', async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'fer-faceapi-'));
      await writeFile(
        path.join(dir, 'm-weights_manifest.json'),
        JSON.stringify([{ paths: ['m.bin'], weights: [{ name: 'a/b', shape: [4], dtype: 'float32' }] }]),
      );
      await writeFile(path.join(dir, 'm.bin'), Buffer.alloc(8));
      await expect(readWeights(dir, 'm')).rejects.toThrow(/a\/b needs bytes 0\.\.16 but the shards hold 8/);
      await expect(readWeights(dir, 'absent')).rejects.toThrow(
        /cannot read weight manifest .*absent-weights_manifest\.json/,
      );
    });

    it('dequantise uint8 with scale and min, and decode float16', async () => {
      await writeFile(
        path.join(dir, 'q-weights_manifest.json'),
        JSON.stringify([
          {
            paths: ['q.bin'],
            weights: [
              { name: 'u', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
              { name: 'h', shape: [1], dtype: 'float32', quantization: { dtype: 'float16' } },
            ],
          },
        ]),
      );
      await writeFile(path.join(dir, 'q.bin'), Buffer.from([0, 2, 255, 0x00, 0x3c]));
      const w = await readWeights(dir, 'q');
      expect([...w.get('u')!.data]).toEqual([-1, 0, 126.5]);
      expect([...w.get('h')!.data]).toEqual([1]);
      expect(halfToFloat(0xc000)).toBe(-2);
    });
  });
});
