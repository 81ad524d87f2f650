// FER_MODEL_VARIANT=auto: int8 (onnx/model_quantized.onnx) on CPU when its recorded agreement with
// fp32 (quantization.json, written by `fer-stream models quantize`) is at least 99 % top-1 and holds
// on this CPU, fp32 otherwise — and the reason, which the CLI prints and results keep. A figure
// holds everywhere for 7-bit weights; for 8-bit weights only on a CPU whose int8 arithmetic is the
// kind it was measured on (int8-arithmetic.ts: AVX2 without VNNI saturates). Dynamic int8 is a CPU
// speed-up; an accelerator session (CUDA) takes fp32.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cpuInt8, type CpuInt8, type Int8Arithmetic } from './int8-arithmetic.ts';

export const QUANTIZATION_FILE = 'quantization.json';
export const AUTO_VARIANT = 'auto';
/** Smallest recorded top-1 agreement with fp32 for auto to take int8. */
export const MIN_INT8_AGREEMENT = 0.99;

/** quantization.json. */
export interface QuantizationRecord {
  readonly variant: string;
  readonly method: string;
  readonly agreement: {
    readonly top1: number;
    readonly maxProbabilityDifference: number;
    readonly crops: number;
    readonly images: readonly string[];
  };
  /** Bits of the int8 weights (7: ±63, 8: ±127); records written before it was kept have 8. */
  readonly weightBits?: number;
  /** The CPU the agreement was measured on; absent from records written before it was kept. */
  readonly measuredOn?: { readonly cpu: string; readonly int8Arithmetic: Int8Arithmetic };
  readonly fp32Bytes: number;
  readonly int8Bytes: number;
  readonly createdAt: string;
  readonly ferStream: string;
}

export interface VariantChoice {
  readonly variant: string;
  readonly reason: string;
}

const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Why a recorded agreement does not hold on `here`, or undefined when it does. */
function notHere(record: QuantizationRecord, here: CpuInt8): string | undefined {
  // 7 bits never saturate, so every CPU computes the integers the measurement did.
  if ((record.weightBits ?? 8) <= 7) return undefined;
  const there = record.measuredOn;
  if (there === undefined)
    return `its agreement was measured on a CPU it does not name, and 8-bit int8 weights give different answers on different CPUs`;
  if (here.arithmetic !== 'unknown' && there.int8Arithmetic === here.arithmetic) return undefined;
  return `its agreement was measured on ${there.cpu} (int8 arithmetic ${there.int8Arithmetic}), and 8-bit int8 weights compute differently here (${here.why})`;
}

/** What auto picks for `dir` before knowing the provider (int8 when recorded good enough for this CPU). */
export async function autoVariant(dir: string, here: CpuInt8 = cpuInt8()): Promise<VariantChoice> {
  let record: QuantizationRecord;
  try {
    record = JSON.parse(await readFile(path.join(dir, QUANTIZATION_FILE), 'utf8')) as QuantizationRecord;
  } catch {
    return {
      variant: 'model',
      reason: `fp32: no ${QUANTIZATION_FILE} (fer-stream models quantize --in ${dir} measures int8)`,
    };
  }
  const { top1, crops, maxProbabilityDifference } = record.agreement ?? {
    top1: 0,
    crops: 0,
    maxProbabilityDifference: 1,
  };
  if (!(crops > 0 && top1 >= MIN_INT8_AGREEMENT)) {
    return {
      variant: 'model',
      reason: `fp32: int8 agreed with fp32 on only ${percent(top1)} of ${crops} face crops (${QUANTIZATION_FILE}; auto needs ${percent(MIN_INT8_AGREEMENT)})`,
    };
  }
  const elsewhere = notHere(record, here);
  if (elsewhere !== undefined)
    return {
      variant: 'model',
      reason: `fp32: ${QUANTIZATION_FILE} records ${percent(top1)} top-1 agreement, but ${elsewhere}; fer-stream models quantize --in ${dir} measures it on this CPU`,
    };
  const where =
    (record.weightBits ?? 8) <= 7
      ? '7-bit weights: the same on every CPU'
      : `measured on ${record.measuredOn!.cpu}, int8 arithmetic ${here.arithmetic} like this CPU's`;
  return {
    variant: record.variant,
    reason: `int8: ${percent(top1)} top-1 agreement with fp32 on ${crops} face crops (largest probability difference ${maxProbabilityDifference.toFixed(3)}, ${where}; ${QUANTIZATION_FILE})`,
  };
}
