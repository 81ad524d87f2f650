// The face-api recognition net (face identity descriptors) as a fer-stream model directory:
//   faceapi-face-recognition/  embedder.json + model.onnx
// converted from the weights @vladmandic/face-api ships on npm (MIT), on first use and again when
// the installed package's version differs from the one it was built from.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FACEAPI_RECOGNITION_DIR } from '../../inference/detectors/faceapi-dirs.ts';
import { EMBEDDER_SPEC_FILE, type EmbedderSpec } from '../../inference/face-embedder.ts';
import { faceApiPackage, writeDirectory } from './convert.ts';
import { EXPRESSION_MEAN_RGB } from './networks.ts';
import { buildRecognitionNet, RECOGNITION_DIMENSIONS, RECOGNITION_INPUT_SIZE, RECOGNITION_IO } from './recognition-net.ts';
import { readWeights } from './weights.ts';

export { FACEAPI_RECOGNITION_DIR };

/** Converts face-api's face_recognition_model into `<modelsDir>/faceapi-face-recognition`. */
export async function buildRecognitionDir(modelsDir: string, options: { sourceDir?: string; replace?: boolean } = {}): Promise<{ dir: string; bytes: number; version: string }> {
  const pkg = await faceApiPackage();
  const graph = buildRecognitionNet(await readWeights(options.sourceDir ?? pkg.modelDir, 'face_recognition_model'));
  const spec: EmbedderSpec & { sourceVersion: string } = {
    type: 'faceapi-face-recognition',
    model: 'model.onnx',
    inputName: RECOGNITION_IO.input,
    outputName: RECOGNITION_IO.output,
    inputSize: RECOGNITION_INPUT_SIZE,
    mean: [...EXPRESSION_MEAN_RGB],
    dimensions: RECOGNITION_DIMENSIONS,
    source: `@vladmandic/face-api ${pkg.version} (MIT), model/face_recognition_model (dlib ResNet-34 face descriptor)`,
    sourceVersion: pkg.version,
    license: 'MIT',
  };
  const dir = path.join(modelsDir, FACEAPI_RECOGNITION_DIR);
  const bytes = await writeDirectory(dir, graph, 'model.onnx', { [EMBEDDER_SPEC_FILE]: spec }, options.replace ?? true);
  return { dir, bytes, version: pkg.version };
}

/** The recognition directory, converted first when missing or built from another package version. */
export async function ensureRecognitionDir(modelsDir: string, onBuild?: (dir: string) => void): Promise<string> {
  const dir = path.join(modelsDir, FACEAPI_RECOGNITION_DIR);
  const built = await readFile(path.join(dir, EMBEDDER_SPEC_FILE), 'utf8').then((t) => (JSON.parse(t) as { sourceVersion?: string }).sourceVersion, () => undefined);
  const modelThere = await stat(path.join(dir, 'model.onnx')).then((s) => s.isFile(), () => false);
  const { version } = await faceApiPackage();
  if (modelThere && built === version) return dir;
  onBuild?.(dir);
  return (await buildRecognitionDir(modelsDir, { replace: modelThere })).dir;
}
