// Dynamic int8 for any ONNX model of ours: every MatMul whose second input is a constant 2-D float
// weight becomes onnxruntime's quantize_dynamic pattern (see inference/onnx/quantize.ts):
//   DynamicQuantizeLinear(x) → MatMulInteger(x_u8, W_s8, x_zero, 0) → Cast → · (x_scale · W_scale)
// with symmetric int8 weights per output column, 7 bits by default (onnx/quantize.ts says why).
// Everything else is left as it is. Convolutions are not rewritten: on these CPUs int8 pays for
// MatMul-heavy models (the ViT: 3× the fp32 throughput), while the small CNNs (face-api's nets,
// BlazeFace) are a few milliseconds anyway.

import { onnx, type OnnxTypes } from './onnx/proto.ts';
import { DEFAULT_WEIGHT_BITS, quantizeWeightInt8, type WeightBits } from './onnx/quantize.ts';

const FLOAT = 1;
const INT8 = 3;

export interface QuantizeOnnxResult {
  readonly bytes: Uint8Array;
  /** MatMuls rewritten. */
  readonly matmuls: number;
}

function floatValues(tensor: OnnxTypes.ITensorProto): Float32Array {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    // Copied into an aligned buffer (raw_data may sit at any offset of the decoded model).
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(tensor.floatData ?? []);
}

/** The quantized model's bytes; throws when there is nothing to quantize or the opset is too old. */
export function quantizeOnnxDynamic(
  modelBytes: Uint8Array,
  options: { perChannel?: boolean; weightBits?: WeightBits } = {},
): QuantizeOnnxResult {
  const perChannel = options.perChannel ?? true;
  const weightBits = options.weightBits ?? DEFAULT_WEIGHT_BITS;
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const opset = Number(model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < 11)
    throw new Error(
      `the model's opset is ${opset}; dynamic int8 (DynamicQuantizeLinear, MatMulInteger) needs opset 11 or later`,
    );
  const initializers = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const uses = new Map<string, number>();
  for (const node of graph.node!) for (const input of node.input ?? []) uses.set(input, (uses.get(input) ?? 0) + 1);
  const nodes: OnnxTypes.INodeProto[] = [];
  const added: OnnxTypes.ITensorProto[] = [];
  const dropped = new Set<string>();
  let matmuls = 0;
  for (const node of graph.node!) {
    const weight = node.opType === 'MatMul' ? initializers.get(node.input![1]!) : undefined;
    if (!weight || weight.dataType !== FLOAT || weight.dims?.length !== 2) {
      nodes.push(node);
      continue;
    }
    const [K, N] = weight.dims.map(Number) as [number, number];
    const { values, scales } = quantizeWeightInt8(floatValues(weight), K, N, perChannel, weightBits);
    const base = `${node.name || node.output![0]}.int8`;
    const channels = scales.length;
    const scaleDims = perChannel ? [N] : [];
    added.push(
      { name: `${base}.weight`, dims: [K, N], dataType: INT8, rawData: new Uint8Array(values.buffer) },
      { name: `${base}.weight_zero_point`, dims: scaleDims, dataType: INT8, rawData: new Uint8Array(channels) },
      { name: `${base}.weight_scale`, dims: scaleDims, dataType: FLOAT, rawData: new Uint8Array(scales.buffer) },
    );
    const [x] = node.input!;
    const out = node.output![0]!;
    nodes.push(
      {
        opType: 'DynamicQuantizeLinear',
        name: `${base}.quantize`,
        input: [x!],
        output: [`${base}.x`, `${base}.x_scale`, `${base}.x_zero_point`],
      },
      {
        opType: 'MatMulInteger',
        name: `${base}.matmul`,
        input: [`${base}.x`, `${base}.weight`, `${base}.x_zero_point`, `${base}.weight_zero_point`],
        output: [`${base}.product`],
      },
      {
        opType: 'Cast',
        name: `${base}.cast`,
        input: [`${base}.product`],
        output: [`${base}.product_float`],
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
      },
      {
        opType: 'Mul',
        name: `${base}.scales`,
        input: [`${base}.x_scale`, `${base}.weight_scale`],
        output: [`${base}.scale`],
      },
      { opType: 'Mul', name: `${base}.dequantize`, input: [`${base}.product_float`, `${base}.scale`], output: [out] },
    );
    uses.set(weight.name!, uses.get(weight.name!)! - 1);
    if (uses.get(weight.name!) === 0) dropped.add(weight.name!);
    matmuls += 1;
  }
  if (matmuls === 0)
    throw new Error(
      'the model has no MatMul with a constant weight: nothing to quantize (int8 pays for MatMul-heavy models such as the ViT)',
    );
  graph.node = nodes;
  graph.initializer = [...graph.initializer!.filter((t) => !dropped.has(t.name!)), ...added];
  return { bytes: onnx.ModelProto.encode(model).finish(), matmuls };
}
