import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { OnnxGraphBuilder, attr, decodeModel } from '../../../src/models/onnx/index.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'fer-onnx-builder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

describe('OnnxGraphBuilder', () => {
  it('builds MatMul + Add + Softmax with a dynamic batch that onnxruntime runs to the expected values', async () => {
    const [inDim, outDim] = [5, 4];
    const w = values(inDim * outDim, 1);
    const b = values(outDim, 2);
    const g = new OnnxGraphBuilder({ graphName: 'tiny' });
    const x = g.addInput('x', 'float32', ['batch', inDim]);
    g.addOutput('probs', 'float32', ['batch', outDim]);
    const mm = g.op('MatMul', [x, g.addInitializer('w', { values: w, dims: [inDim, outDim] })]);
    const logits = g.op('Add', [mm, g.addInitializer('b', { values: b, dims: [outDim] })]);
    g.op('Softmax', [logits], { axis: attr.int(-1) }, 'probs');
    expect(g.parameterCount).toBe(inDim * outDim + outDim);

    const bytes = g.toBytes();
    const file = path.join(tmp, 'nested', 'tiny.onnx');
    expect(await g.writeFile(file)).toBe(bytes.length);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);

    for (const batch of [1, 3]) {
      const input = values(batch * inDim, 7 + batch);
      const out = await run(bytes, { x: new ort.Tensor('float32', input, [batch, inDim]) });
      const probs = out.probs!;
      expect(probs.dims).toEqual([batch, outDim]);
      for (let n = 0; n < batch; n++) {
        const z = Array.from({ length: outDim }, (_, j) => {
          let s = b[j]!;
          for (let i = 0; i < inDim; i++) s += input[n * inDim + i]! * w[i * outDim + j]!;
          return s;
        });
        const max = Math.max(...z);
        const e = z.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, c) => a + c, 0);
        for (let j = 0; j < outDim; j++)
          expect((probs.data as Float32Array)[n * outDim + j]).toBeCloseTo(e[j]! / sum, 6);
      }
    }
  });

  it('writes typed attributes (ints, floats, float, string, tensor) that operators honour', async () => {
    const g = new OnnxGraphBuilder({ opset: 17 });
    const x = g.addInput('x', 'float32', ['n', 2, 4, 4]);
    g.addOutput('conv', 'float32', ['n', 2, 2, 2]);
    g.addOutput('norm', 'float32', ['n', 2, 4, 4]);
    g.addOutput('padded', 'float32', ['n', 2, 4, 6]);
    g.addOutput('scaled', 'float32', [3]);
    // Depthwise 3×3 conv, stride 2, pad 1 (as face-api's separable convolutions use).
    const kernel = new Float32Array(2 * 9).fill(1);
    g.op(
      'Conv',
      [x, g.addInitializer('k', { values: kernel, dims: [2, 1, 3, 3] })],
      {
        group: attr.int(2),
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
      },
      'conv',
    );
    g.op(
      'LayerNormalization',
      [x, g.float32([1, 1, 1, 1]), g.float32([0, 0, 0, 0])],
      { axis: attr.int(-1), epsilon: attr.float(0.5) },
      'norm',
    );
    g.op('Pad', [x, g.int64s([0, 0, 0, 1, 0, 0, 0, 1])], { mode: attr.string('edge') }, 'padded');
    const c = g.op('Constant', [], { value: attr.tensor({ values: Float32Array.from([1, 2, 3]), dims: [3] }) });
    const f = g.op('Constant', [], { value_floats: attr.floats([10, 20, 30]) });
    g.op('Mul', [c, f], {}, 'scaled');

    const input = new Float32Array(2 * 16).fill(0);
    for (let i = 0; i < 32; i++) input[i] = i % 4; // each row: 0 1 2 3
    const out = await run(g.toBytes(), { x: new ort.Tensor('float32', input, [1, 2, 4, 4]) });

    // Each output sums the in-bounds part of its 3×3 window over rows of 0 1 2 3: output row 0 sees
    // two input rows (cols 0..1 → 2·1, cols 1..3 → 2·6), output row 1 sees three (3·1, 3·6).
    expect(Array.from(out.conv!.data as Float32Array).slice(0, 4)).toEqual([2, 12, 3, 18]);
    // LayerNorm of [0,1,2,3] with epsilon 0.5 (variance 1.25): (x − 1.5) / sqrt(1.75).
    expect((out.norm!.data as Float32Array)[0]).toBeCloseTo(-1.5 / Math.sqrt(1.75), 5);
    // Edge padding repeats the first and last column.
    expect(Array.from(out.padded!.data as Float32Array).slice(0, 6)).toEqual([0, 0, 1, 2, 3, 3]);
    expect(Array.from(out.scaled!.data as Float32Array)).toEqual([10, 40, 90]);
  });

  it('records dim_param, opset and producer in the serialised model', () => {
    const g = new OnnxGraphBuilder({ opset: 18, metadata: { purpose: 'test' } });
    const x = g.addInput('x', 'float32', ['batch_size', 3]);
    g.addOutput('y', 'float32', ['batch_size', 3]);
    g.op('Relu', [x], {}, 'y');
    const model = decodeModel(g.toBytes());
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 18]]);
    expect(model.producerName).toBe('fer-stream');
    expect(model.metadataProps[0]).toMatchObject({ key: 'purpose', value: 'test' });
    const dims = model.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    expect(dims[0]!.dimParam).toBe('batch_size');
    expect(Number(dims[1]!.dimValue)).toBe(3);
  });

  it('stores initializers as little-endian raw_data of the given element type', () => {
    const g = new OnnxGraphBuilder();
    const x = g.addInput('x', 'int64', [2]);
    g.addOutput('y', 'int64', [2]);
    g.op('Add', [x, g.addInitializer('c', { values: BigInt64Array.from([1n, -2n]), dims: [2] })], {}, 'y');
    const tensor = decodeModel(g.toBytes()).graph!.initializer![0]!;
    expect(tensor.dataType).toBe(7);
    const raw = Buffer.from(tensor.rawData!);
    expect([raw.readBigInt64LE(0), raw.readBigInt64LE(8)]).toEqual([1n, -2n]);
  });

  it('rejects malformed graphs with specific errors', () => {
    const g = new OnnxGraphBuilder();
    const x = g.addInput('x', 'float32', [2]);
    expect(() => g.op('Relu', ['nope'])).toThrow(/input "nope" is not defined/);
    expect(() => g.addInput('x', 'float32', [2])).toThrow(/already defined/);
    expect(() => g.addInitializer('w', { values: new Float32Array(5), dims: [2, 3] })).toThrow(
      /5 values do not fill dims \[2, 3\]/,
    );
    expect(() => g.addInitializer('h', { values: new Int32Array(1), dims: [1], elementType: 'float16' })).toThrow(
      /cannot hold ONNX float16/,
    );
    expect(() => attr.int(1.5)).toThrow(/not a safe integer/);
    g.addOutput('y', 'float32', [2]);
    expect(() => g.toBytes()).toThrow(/graph output "y" is not produced/);
    g.op('Relu', [x], {}, 'y');
    expect(() => g.toBytes()).not.toThrow();
    expect(() => new OnnxGraphBuilder({ opset: 30 })).toThrow(/opset 30 is not supported/);
  });
});
