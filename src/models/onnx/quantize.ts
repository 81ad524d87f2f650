// Dynamic int8 quantisation of MatMuls with constant weights, in standard ONNX operators, the way
// onnxruntime's quantize_dynamic writes it:
//
//   (x_u8, x_scale, x_zero) = DynamicQuantizeLinear(x)              activations: uint8, per call
//   y = Cast<float>(MatMulInteger(x_u8, W_s8, x_zero, W_zero)) · (x_scale · W_scale)
//
// Weights are symmetric int8 (zero point 0), per tensor or per output column, in 7 bits (±63) by
// default: on AVX2 CPUs without VNNI onnxruntime's kernel saturates pairs of 8-bit products, so only
// 7-bit weights give the same answers on every CPU (inference/int8-arithmetic.ts).
// onnxruntime fuses the pattern (with a following bias Add) into one DynamicQuantizeMatMul kernel.

import { attr, type OnnxGraphBuilder } from './graph-builder.ts';

export interface QuantizedWeight {
  /** int8 values, [K, N] row-major like the float weight. */
  readonly values: Int8Array;
  /** One scale (per tensor) or N scales (per output column). */
  readonly scales: Float32Array;
}

/** Weight bits the quantisers write unless told otherwise: exact on every CPU (see above). */
export const DEFAULT_WEIGHT_BITS = 7;
export type WeightBits = 7 | 8;

/** Symmetric int8 quantisation of a [K, N] MatMul weight into `bits` bits (±63 or ±127). */
export function quantizeWeightInt8(
  weight: Float32Array,
  K: number,
  N: number,
  perChannel: boolean,
  bits: WeightBits = DEFAULT_WEIGHT_BITS,
): QuantizedWeight {
  if (weight.length !== K * N)
    throw new RangeError(`quantizeWeightInt8: ${weight.length} values for a [${K}, ${N}] weight`);
  if (bits !== 7 && bits !== 8)
    throw new RangeError(`quantizeWeightInt8: weights are 7 or 8 bits, not ${String(bits)}`);
  const limit = 2 ** (bits - 1) - 1;
  const maxAbs = new Float32Array(perChannel ? N : 1);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const a = Math.abs(weight[k * N + n]!);
      const c = perChannel ? n : 0;
      if (a > maxAbs[c]!) maxAbs[c] = a;
    }
  }
  // An all-zero column gets scale 1 so that dequantisation stays finite.
  const scales = maxAbs.map((m) => (m > 0 ? m / limit : 1));
  const values = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const q = Math.round(weight[k * N + n]! / scales[perChannel ? n : 0]!);
      values[k * N + n] = q > limit ? limit : q < -limit ? -limit : q;
    }
  }
  return { values, scales };
}

/**
 * Adds y = x·W (+ bias) as a dynamically quantised MatMul; W is the float [K, N] weight.
 * Returns the output name.
 */
export function addDynamicQuantizedMatMul(
  g: OnnxGraphBuilder,
  input: string,
  weight: Float32Array,
  K: number,
  N: number,
  options: { name: string; perChannel: boolean; weightBits?: WeightBits; bias?: Float32Array },
): string {
  const { values, scales } = quantizeWeightInt8(weight, K, N, options.perChannel, options.weightBits);
  const channels = scales.length;
  const [xq, xScale, xZero] = g.node('DynamicQuantizeLinear', [input], { outputs: 3 }) as [string, string, string];
  const wq = g.addInitializer(`${options.name}.weight_quantized`, { values, dims: [K, N] });
  const wZero = g.addInitializer(`${options.name}.weight_zero_point`, {
    values: new Int8Array(channels),
    dims: options.perChannel ? [N] : [],
  });
  const wScale = g.addInitializer(`${options.name}.weight_scale`, {
    values: scales,
    dims: options.perChannel ? [N] : [],
  });
  const product = g.op('MatMulInteger', [xq, wq, xZero, wZero]);
  const scaled = g.op('Mul', [g.op('Cast', [product], { to: attr.int(1) }), g.op('Mul', [xScale, wScale])]);
  if (options.bias === undefined) return scaled;
  return g.op('Add', [scaled, g.addInitializer(`${options.name}.bias`, { values: options.bias, dims: [N] })]);
}
