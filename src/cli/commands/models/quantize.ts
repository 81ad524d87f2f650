// `fer-stream models quantize --in DIR [--out DIR] [--images DIR] [--per-tensor] [--weight-bits 7|8]`: dynamic int8 for
// a model directory of ours (src/models/quantize-dir.ts), with its agreement with fp32 measured on
// real face crops and recorded in quantization.json (what FER_MODEL_VARIANT=auto reads).

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../../config/index.ts';
import { faceApiSamplePhotos } from '../../../models/faceapi/sample-photos.ts';
import { cpuInt8 } from '../../../inference/int8-arithmetic.ts';
import { MIN_INT8_AGREEMENT } from '../../../inference/model-variant.ts';
import { quantizeModelDir } from '../../../models/quantize-dir.ts';
import { parseCommandArgs, UsageError } from '../../args.ts';
import { EXIT_CODES, type Command } from '../../command.ts';

const quantize: Pick<Command, 'run'> = {
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        in: { type: 'string' },
        out: { type: 'string' },
        images: { type: 'string' },
        'per-tensor': { type: 'boolean', default: false },
        'weight-bits': { type: 'string', default: '7' },
      },
      false,
    );
    if (values.in === undefined)
      throw new UsageError('--in DIR is required: the model directory (config.json, onnx/model.onnx)');
    const weightBits = Number(values['weight-bits']);
    if (weightBits !== 7 && weightBits !== 8)
      throw new UsageError(`--weight-bits is 7 or 8, not ${values['weight-bits']}`);
    const photos = values.images
      ? readdirSync(path.resolve(values.images))
          .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
          .sort()
          .map((f) => path.join(path.resolve(values.images!), f))
      : faceApiSamplePhotos();
    if (photos.length === 0) throw new UsageError(`no photos (.jpg, .png, .webp) in ${values.images}`);
    const config = loadConfig();
    const started = performance.now();
    const record = await quantizeModelDir({
      inDir: path.resolve(values.in),
      ...(values.out ? { outDir: path.resolve(values.out) } : {}),
      photos,
      modelsDir: config.modelsDir,
      inference: config.inference,
      cropMargin: config.faces.cropMargin,
      perChannel: !values['per-tensor'],
      weightBits,
    });
    const { top1, crops, maxProbabilityDifference } = record.agreement;
    console.log(
      `wrote ${path.join(record.outDir, 'onnx', 'model_quantized.onnx')} (${(record.int8Bytes / 1e6).toFixed(1)} MB, fp32 ${(record.fp32Bytes / 1e6).toFixed(1)} MB) and quantization.json, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(`  ${record.method}`);
    console.log(
      `  agreement with fp32 on ${crops} face crops of ${photos.length} photos: top-1 ${(top1 * 100).toFixed(1)} %, largest probability difference ${maxProbabilityDifference.toFixed(3)}`,
    );
    console.log(
      weightBits === 7
        ? '  7-bit weights: every CPU computes the same int8 results, so the figure holds wherever the model runs'
        : `  8-bit weights: the figure holds on CPUs whose int8 arithmetic is ${cpuInt8().arithmetic} like this one's (${cpuInt8().why})`,
    );
    console.log(
      top1 >= MIN_INT8_AGREEMENT
        ? '  FER_MODEL_VARIANT=auto (the default) runs int8 on CPU'
        : `  below ${MIN_INT8_AGREEMENT * 100} %: FER_MODEL_VARIANT=auto keeps fp32 (FER_MODEL_VARIANT=model_quantized forces int8)`,
    );
    return EXIT_CODES.ok;
  },
};

export default quantize;
