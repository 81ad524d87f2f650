// Which CPUs sum int8 products exactly, and whether that prediction matches what onnxruntime does
// on this machine: a MatMul of ones quantised with 8-bit weights saturates on AVX2 without VNNI,
// and with 7-bit weights (the quantisers' default) it is exact on every CPU.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cpuInt8, int8ArithmeticOf } from '../../src/inference/int8-arithmetic.ts';
import { OnnxGraphBuilder } from '../../src/models/onnx/index.ts';
import { quantizeOnnxDynamic } from '../../src/models/quantize-onnx.ts';

describe('int8 arithmetic of a CPU', () => {
  it('names VNNI, AMX and ARM64 exact, AVX2 or AVX-512 without VNNI saturating, anything else unknown', () => {
    const x64 = (...flags: string[]) => int8ArithmeticOf('x64', new Set(['sse4_2', ...flags])).arithmetic;
    expect(x64('avx2', 'avx512bw', 'avx512_vnni')).toBe('exact');
    expect(x64('avx2', 'avx_vnni')).toBe('exact');
    expect(x64('avx2', 'avx512bw', 'amx_int8')).toBe('exact');
    expect(x64('avx2')).toBe('saturating');
    expect(x64('avx2', 'avx512f', 'avx512bw')).toBe('saturating');
    expect(x64()).toBe('unknown');
    expect(int8ArithmeticOf('x64', undefined).arithmetic).toBe('unknown');
    expect(int8ArithmeticOf('arm64', undefined).arithmetic).toBe('exact');
    expect(int8ArithmeticOf('riscv64', undefined)).toEqual({
      arithmetic: 'unknown',
      why: expect.stringContaining('riscv64'),
    });
    expect(int8ArithmeticOf('x64', new Set(['avx2'])).why).toMatch(
      /avx2 and no VNNI: pairs of uint8×int8 products saturate at 16 bits/,
    );
  });

  it('predicts what onnxruntime computes here: 8-bit weights saturate only where it says so, 7-bit weights are exact', async () => {
    const [M, K, N] = [8, 768, 16];
    const g = new OnnxGraphBuilder({ opset: 17 });
    const x = g.addInput('x', 'float32', [M, K]);
    g.op('MatMul', [x, g.addInitializer('w', { values: new Float32Array(K * N).fill(1), dims: [K, N] })], {}, 'y');
    g.addOutput('y', 'float32', [M, N]);
    const fp32 = g.toBytes();
    // All ones: activations quantise to 255 and weights to their limit, the largest pair sums there are.
    const run = async (weightBits: 7 | 8) => {
      const session = await ort.InferenceSession.create(quantizeOnnxDynamic(fp32, { weightBits }).bytes, {
        intraOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      try {
        const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(M * K).fill(1), [M, K]) });
        return Array.from(out.y!.data as Float32Array);
      } finally {
        await session.release();
      }
    };
    for (const y of await run(7)) expect(y).toBeCloseTo(K, 2);
    const here = cpuInt8();
    const eight = await run(8);
    if (here.arithmetic === 'saturating')
      for (const y of eight) expect(y).toBeLessThan(K * 0.6); // 32,767 of 64,770 per pair
    else if (here.arithmetic === 'exact') for (const y of eight) expect(y).toBeCloseTo(K, 2);
    else console.warn(`int8 arithmetic of ${here.cpu} unknown (${here.why}): only the 7-bit case is checked`);
  });
});
