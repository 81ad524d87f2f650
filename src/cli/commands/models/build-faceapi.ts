// `fer-stream models build-faceapi [--out DIR]`: converts the trained face detector, expression net
// and recognition net that @vladmandic/face-api ships on npm into ONNX model directories (no network needed).

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../../config/index.ts';
import { buildFaceApiModels } from '../../../models/faceapi/convert.ts';
import { parseCommandArgs } from '../../args.ts';
import { EXIT_CODES, type Command } from '../../command.ts';

// (Typed against command.ts, not models.ts: importing the table that loads this module would be a cycle.)
const buildFaceApi: Pick<Command, 'run'> = {
  async run(args) {
    const { values } = parseCommandArgs(args, { out: { type: 'string' } }, false);
    const outDir = path.resolve(values.out ?? loadConfig().modelsDir);
    const started = performance.now();
    const result = await buildFaceApiModels(outDir);
    const seconds = (performance.now() - started) / 1000;
    console.log(`converted @vladmandic/face-api ${result.version} models in ${seconds.toFixed(1)} s:`);
    console.log(
      `  ${result.detectorDir}  tiny face detector, model.onnx ${(result.detectorBytes / 1e3).toFixed(0)} kB`,
    );
    console.log(
      `  ${result.expressionDir}  expression net (neutral, happy, sad, angry, fearful, disgusted, surprised), onnx/model.onnx ${(result.expressionBytes / 1e3).toFixed(0)} kB`,
    );
    console.log(
      `  ${result.recognitionDir}  recognition net (128-d identity descriptors for persons), model.onnx ${(result.recognitionBytes / 1e6).toFixed(1)} MB`,
    );
    return EXIT_CODES.ok;
  },
};

export default buildFaceApi;
