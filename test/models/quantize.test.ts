// `models quantize` on a real (tiny, synthetic-weight) ViT directory: the MatMuls become int8,
// the quantized file runs in onnxruntime, quantization.json records the agreement measured on the
// faces of face-api's sample photos; FER_MODEL_VARIANT=auto then picks the variant from it.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createImageClassifier } from '../../src/inference/classifier.ts';
import { cpuInt8, type CpuInt8 } from '../../src/inference/int8-arithmetic.ts';
import { autoVariant } from '../../src/inference/model-variant.ts';
import { faceApiSamplePhotos } from '../../src/models/faceapi/sample-photos.ts';
import { decodeModel, OnnxGraphBuilder } from '../../src/models/onnx/index.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import { quantizeModelDir } from '../../src/models/quantize-dir.ts';
import { quantizeOnnxDynamic } from '../../src/models/quantize-onnx.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-quantize-'));
const vit = path.join(tmp, 'vit');
const config = loadConfig(
  {},
  { modelsDir: path.join(tmp, 'models'), inference: { executionProviders: ['cpu'], intraOpThreads: 1 } },
);

describe('models quantize', () => {
  beforeAll(async () => {
    await buildSyntheticVitModelDir({ outDir: vit, preset: 'tiny', seed: 4 });
  }, 60_000);
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('rewrites every MatMul with a constant weight into the dynamic int8 pattern, and nothing else', async () => {
    const fp32 = await readFile(path.join(vit, 'onnx', 'model.onnx'));
    const before = decodeModel(fp32).graph!.node!;
    const { bytes, matmuls } = quantizeOnnxDynamic(fp32);
    const after = decodeModel(bytes).graph!.node!;
    const constantMatMuls = before.filter(
      (n) => n.opType === 'MatMul' && decodeModel(fp32).graph!.initializer!.some((t) => t.name === n.input![1]),
    ).length;
    expect(matmuls).toBe(constantMatMuls);
    expect(matmuls).toBeGreaterThan(0);
    expect(after.filter((n) => n.opType === 'MatMulInteger')).toHaveLength(matmuls);
    expect(after.filter((n) => n.opType === 'DynamicQuantizeLinear')).toHaveLength(matmuls);
    // MatMuls between activations (attention scores) stay float.
    expect(after.filter((n) => n.opType === 'MatMul')).toHaveLength(
      before.filter((n) => n.opType === 'MatMul').length - matmuls,
    );
    expect(bytes.length).toBeLessThan(fp32.length);
    // 7-bit weights by default (exact on every CPU), 8 when asked.
    const weightRange = (model: Uint8Array) => {
      const weights = decodeModel(model).graph!.initializer!.filter(
        (t) => t.dataType === 3 && t.name!.endsWith('.weight'),
      );
      expect(weights).toHaveLength(matmuls);
      return Math.max(
        ...weights.map((t) =>
          Math.max(...Array.from(new Int8Array(t.rawData!.buffer, t.rawData!.byteOffset, t.rawData!.length), Math.abs)),
        ),
      );
    };
    expect(weightRange(bytes)).toBe(63);
    expect(weightRange(quantizeOnnxDynamic(fp32, { weightBits: 8 }).bytes)).toBe(127);
  });

  it('refuses a model without a constant MatMul weight, with the reason', () => {
    const g = new OnnxGraphBuilder({ opset: 17 });
    const x = g.addInput('x', 'float32', [1, 4]);
    g.op('Relu', [x], {}, 'y');
    g.addOutput('y', 'float32', [1, 4]);
    expect(() => quantizeOnnxDynamic(g.toBytes())).toThrow(/no MatMul with a constant weight: nothing to quantize/);
  });

  it('writes model_quantized.onnx and quantization.json with the agreement on real face crops; auto runs int8 when it is ≥ 99 %', async () => {
    const out = path.join(tmp, 'vit-int8');
    const record = await quantizeModelDir({
      inDir: vit,
      outDir: out,
      photos: faceApiSamplePhotos(),
      modelsDir: config.modelsDir,
      inference: config.inference,
      cropMargin: 0.15,
    });
    expect(record.agreement.crops).toBeGreaterThanOrEqual(12);
    expect(record.agreement.crops % 2).toBe(0);
    expect(record.agreement.top1).toBeGreaterThan(0);
    expect(record.agreement.top1).toBeLessThanOrEqual(1);
    const saved = JSON.parse(await readFile(path.join(out, 'quantization.json'), 'utf8'));
    expect(saved).toMatchObject({
      variant: 'model_quantized',
      agreement: record.agreement,
      weightBits: 7,
      measuredOn: { cpu: cpuInt8().cpu, int8Arithmetic: cpuInt8().arithmetic },
    });
    expect(saved.method).toMatch(/symmetric 7-bit per output channel/);

    const open = async (dir: string) => {
      const classifier = await createImageClassifier(dir, { config: { ...config.inference, modelVariant: 'auto' } });
      const info = classifier.info;
      await classifier.close();
      return info.variant!;
    };
    // Recorded good enough: int8, and says why.
    await writeFile(
      path.join(out, 'quantization.json'),
      JSON.stringify({ ...saved, agreement: { ...saved.agreement, top1: 0.995 } }),
    );
    expect(await open(out)).toEqual({
      file: 'onnx/model_quantized.onnx',
      reason: expect.stringMatching(/^int8: 99\.5 % top-1 agreement with fp32 on \d+ face crops/),
    });
    // Recorded too low: fp32.
    await writeFile(
      path.join(out, 'quantization.json'),
      JSON.stringify({ ...saved, agreement: { ...saved.agreement, top1: 0.9 } }),
    );
    expect(await open(out)).toEqual({
      file: 'onnx/model.onnx',
      reason: expect.stringMatching(/^fp32: int8 agreed with fp32 on only 90\.0 %/),
    });
    // Never measured: fp32, and what to run.
    expect(await open(vit)).toEqual({
      file: 'onnx/model.onnx',
      reason: expect.stringMatching(/^fp32: no quantization\.json \(fer-stream models quantize --in /),
    });
  }, 120_000);

  it('auto trusts a recorded agreement only where it holds: 7-bit weights on every CPU, 8-bit ones on CPUs with the same int8 arithmetic', async () => {
    const dir = path.join(tmp, 'records');
    const avx2: CpuInt8 = { cpu: 'AMD EPYC', arithmetic: 'saturating', why: 'x86-64 with avx2 and no VNNI: …' };
    const vnni: CpuInt8 = { cpu: 'Intel Xeon', arithmetic: 'exact', why: 'x86-64 with avx512_vnni: …' };
    const unknown: CpuInt8 = { cpu: 'RISC-V', arithmetic: 'unknown', why: 'riscv64: …' };
    const agreement = { top1: 0.995, maxProbabilityDifference: 0.01, crops: 42, images: ['a.jpg'] };
    const pick = async (record: object, here: CpuInt8) => {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFile(
        path.join(dir, 'quantization.json'),
        JSON.stringify({ variant: 'model_quantized', agreement, ...record }),
      );
      return autoVariant(dir, here);
    };
    const measuredOnAvx2 = { measuredOn: { cpu: 'AMD EPYC', int8Arithmetic: 'saturating' } };
    expect(await pick({ weightBits: 7, ...measuredOnAvx2 }, vnni)).toEqual({
      variant: 'model_quantized',
      reason: expect.stringMatching(/^int8: 99\.5 % .*7-bit weights: the same on every CPU/),
    });
    expect(await pick({ weightBits: 7, ...measuredOnAvx2 }, unknown)).toMatchObject({ variant: 'model_quantized' });
    expect(await pick({ weightBits: 8, ...measuredOnAvx2 }, avx2)).toEqual({
      variant: 'model_quantized',
      reason: expect.stringMatching(/measured on AMD EPYC, int8 arithmetic saturating like this CPU's/),
    });
    expect(await pick({ weightBits: 8, ...measuredOnAvx2 }, vnni)).toEqual({
      variant: 'model',
      reason: expect.stringMatching(
        /^fp32: quantization\.json records 99\.5 % top-1 agreement, but its agreement was measured on AMD EPYC \(int8 arithmetic saturating\), and 8-bit int8 weights compute differently here \(x86-64 with avx512_vnni.*fer-stream models quantize --in .* measures it on this CPU$/,
      ),
    });
    expect(
      await pick({ weightBits: 8, measuredOn: { cpu: 'RISC-V', int8Arithmetic: 'unknown' } }, unknown),
    ).toMatchObject({ variant: 'model' });
    // Written before the CPU was recorded: 8-bit weights measured somewhere.
    expect(await pick({}, vnni)).toEqual({
      variant: 'model',
      reason: expect.stringMatching(/measured on a CPU it does not name/),
    });
  });
});
