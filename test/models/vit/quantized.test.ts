import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { quantizeWeightInt8 } from '../../../src/models/onnx/quantize.ts';
import { buildSyntheticVitModelDir } from '../../../src/models/vit/index.ts';
import { fillNormal } from '../../../src/models/vit/synthetic.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'fer-vit-quantized-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function logits(file: string, pixels: Float32Array, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(readFileSync(file), {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  try {
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, 224, 224]) });
    return out.logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));

describe('dynamic int8 ViT (onnx/model_quantized.onnx)', () => {
  it('quantises weights symmetrically with the largest magnitude at ±63 (7 bits, the default) or ±127 (8 bits), per channel or per tensor', () => {
    const w = Float32Array.from([0.5, -2, 0.25, 1, -1, 0]); // [K=3, N=2]: columns [0.5, 0.25, -1], [-2, 1, 0]
    const perChannel = quantizeWeightInt8(w, 3, 2, true, 8);
    expect(Array.from(perChannel.scales)).toEqual([Math.fround(1 / 127), Math.fround(2 / 127)]);
    expect(Array.from(perChannel.values)).toEqual([64, -127, 32, 64, -127, 0]);
    const perTensor = quantizeWeightInt8(w, 3, 2, false, 8);
    expect(Array.from(perTensor.scales)).toEqual([Math.fround(2 / 127)]);
    expect(Array.from(perTensor.values)).toEqual([32, -127, 16, 64, -64, 0]);
    const sevenBits = quantizeWeightInt8(Float32Array.from([1, -2, 0.2, 0.8, -0.4, 0]), 3, 2, true);
    expect(Array.from(sevenBits.scales)).toEqual([Math.fround(1 / 63), Math.fround(2 / 63)]);
    expect(Array.from(sevenBits.values)).toEqual([63, -63, 13, 25, -25, 0]);
    expect(() => quantizeWeightInt8(w, 3, 2, true, 6 as 7)).toThrow(/7 or 8 bits, not 6/);
  });

  for (const quantize of ['int8-per-channel', 'int8-per-tensor'] as const) {
    it(`${quantize}: same top-1 as float32 and logits within 5% of their range`, async () => {
      const dir = await buildSyntheticVitModelDir({
        preset: 'tiny',
        seed: 5,
        std: 0.05,
        biasStd: 0.05,
        normStd: 0.1,
        outDir: path.join(tmp, quantize),
        quantize,
      });
      expect(dir.quantized).toBeDefined();
      // int8 encoder weights (the patch embedding and position embeddings stay float32).
      expect(dir.quantized!.modelBytes).toBeLessThan(dir.modelBytes * 0.6);
      const batch = 12;
      const pixels = new Float32Array(batch * 3 * 224 * 224);
      fillNormal(pixels, 0.6, 8);
      const f = await logits(dir.modelFile, pixels, batch);
      const q = await logits(dir.quantized!.modelFile, pixels, batch);
      const range = Math.max(...f) - Math.min(...f);
      expect(range).toBeGreaterThan(0.3);
      let worst = 0;
      for (let i = 0; i < f.length; i++) worst = Math.max(worst, Math.abs(f[i]! - q[i]!));
      expect(worst).toBeLessThan(0.05 * range);
      for (let n = 0; n < batch; n++)
        expect(argmax(q.subarray(n * 7, n * 7 + 7))).toBe(argmax(f.subarray(n * 7, n * 7 + 7)));
    });
  }
});
