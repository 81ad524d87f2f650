// `fer-stream models quantize`: onnx/model_quantized.onnx (dynamic int8, quantize-onnx.ts) for a
// model directory of ours, and quantization.json beside it with its measured agreement with fp32
// on real face crops — what FER_MODEL_VARIANT=auto reads to decide whether int8 is good enough.

import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InferenceConfig } from '../config/index.ts';
import { cpuInt8 } from '../inference/int8-arithmetic.ts';
import { QUANTIZATION_FILE, type QuantizationRecord } from '../inference/model-variant.ts';
import { FERSTREAM_VERSION } from '../metrics/build-info.ts';
import { faceCrops, measureAgreement } from './agreement.ts';
import { DEFAULT_WEIGHT_BITS, type WeightBits } from './onnx/quantize.ts';
import { quantizeOnnxDynamic } from './quantize-onnx.ts';
import { convertHfVitModelDir } from './vit/index.ts';

export interface QuantizeDirOptions {
  readonly inDir: string;
  /** Default: inDir (the quantized variant is written beside fp32). */
  readonly outDir?: string;
  /** Photos whose faces the agreement is measured on. */
  readonly photos: readonly string[];
  readonly modelsDir: string;
  readonly inference: InferenceConfig;
  readonly cropMargin: number;
  readonly perChannel?: boolean;
  /** 7 (default: the same answers on every CPU) or 8 (finer, but saturating on AVX2 without VNNI). */
  readonly weightBits?: WeightBits;
}

export async function quantizeModelDir(
  options: QuantizeDirOptions,
): Promise<QuantizationRecord & { readonly outDir: string }> {
  const outDir = options.outDir ?? options.inDir;
  const source = path.join(options.inDir, 'onnx', 'model.onnx');
  if (!(await stat(source).catch(() => null))?.isFile()) throw new Error(`no fp32 model at ${source}`);
  if (path.resolve(outDir) !== path.resolve(options.inDir)) {
    await mkdir(outDir, { recursive: true });
    await cp(options.inDir, outDir, {
      recursive: true,
      filter: (file) => !/model_quantized\.onnx$|quantization\.json$/.test(file),
    });
  }
  const fp32 = await readFile(source);
  const weightBits = options.weightBits ?? DEFAULT_WEIGHT_BITS;
  const { bytes, matmuls } = quantizeOnnxDynamic(fp32, { perChannel: options.perChannel ?? true, weightBits });
  await writeFile(path.join(outDir, 'onnx', 'model_quantized.onnx'), bytes);
  const crops = await faceCrops(options.photos, {
    modelsDir: options.modelsDir,
    inference: options.inference,
    cropMargin: options.cropMargin,
  });
  const agreement = await measureAgreement(outDir, 'model_quantized', crops, options.photos, options.inference);
  const record: QuantizationRecord = {
    variant: 'model_quantized',
    method: `dynamic int8: ${matmuls} MatMul weights symmetric ${weightBits}-bit per ${(options.perChannel ?? true) ? 'output channel' : 'tensor'}, activations quantised per call`,
    agreement,
    weightBits,
    measuredOn: { cpu: cpuInt8().cpu, int8Arithmetic: cpuInt8().arithmetic },
    fp32Bytes: fp32.length,
    int8Bytes: bytes.length,
    createdAt: new Date().toISOString(),
    ferStream: FERSTREAM_VERSION,
  };
  await writeFile(path.join(outDir, QUANTIZATION_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return { ...record, outDir };
}

/**
 * A Hugging Face ViT converted to a model directory, with its int8 variant and quantization.json
 * written right away (`models fetch vit-fer`): FER_MODEL_VARIANT=auto can take int8 from the start.
 */
export async function convertVitWithInt8(
  from: string,
  outDir: string,
  options: Omit<QuantizeDirOptions, 'inDir' | 'outDir'>,
): Promise<QuantizationRecord> {
  await convertHfVitModelDir({ from, outDir });
  return quantizeModelDir({ ...options, inDir: outDir });
}
