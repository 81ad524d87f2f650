// FER_MODEL_VARIANT=auto: int8 (onnx/model_quantized.onnx) on CPU when its recorded agreement with
// fp32 (quantization.json, written by `fer-stream models quantize`) is at least 99 % top-1, fp32
// otherwise — and the reason, which the CLI prints and results keep. Dynamic int8 is a CPU
// speed-up; an accelerator session (CUDA) takes fp32.

import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const QUANTIZATION_FILE = 'quantization.json';
export const AUTO_VARIANT = 'auto';
/** Smallest recorded top-1 agreement with fp32 for auto to take int8. */
export const MIN_INT8_AGREEMENT = 0.99;

/** quantization.json. */
export interface QuantizationRecord {
  readonly variant: string;
  readonly method: string;
  readonly agreement: { readonly top1: number; readonly maxProbabilityDifference: number; readonly crops: number; readonly images: readonly string[] };
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

/** What auto picks for `dir` before knowing the provider (int8 when recorded good enough). */
export async function autoVariant(dir: string): Promise<VariantChoice> {
  let record: QuantizationRecord;
  try {
    record = JSON.parse(await readFile(path.join(dir, QUANTIZATION_FILE), 'utf8')) as QuantizationRecord;
  } catch {
    return { variant: 'model', reason: `fp32: no ${QUANTIZATION_FILE} (fer-stream models quantize --in ${dir} measures int8)` };
  }
  const { top1, crops, maxProbabilityDifference } = record.agreement ?? { top1: 0, crops: 0, maxProbabilityDifference: 1 };
  if (crops > 0 && top1 >= MIN_INT8_AGREEMENT) {
    return { variant: record.variant, reason: `int8: ${percent(top1)} top-1 agreement with fp32 on ${crops} face crops (largest probability difference ${maxProbabilityDifference.toFixed(3)}, ${QUANTIZATION_FILE})` };
  }
  return { variant: 'model', reason: `fp32: int8 agreed with fp32 on only ${percent(top1)} of ${crops} face crops (${QUANTIZATION_FILE}; auto needs ${percent(MIN_INT8_AGREEMENT)})` };
}
