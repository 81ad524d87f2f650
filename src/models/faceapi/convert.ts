// `models build-faceapi`: converts the trained weights that @vladmandic/face-api ships on npm into
// fer-stream model directories, so a machine without internet has real models after `npm install`:
//   faceapi-tiny-face-detector/  faceapi-detector.json + model.onnx   (our detector code decodes boxes)
//   faceapi-face-expression/     config.json + preprocessor_config.json + onnx/model.onnx  (an image classifier)
//   faceapi-face-recognition/    embedder.json + model.onnx  (identity descriptors for persons)
// Each directory is built in a temporary folder and renamed into place, so processes that build
// at the same time (several workers starting on a fresh machine) never see a half-written one.

import { createRequire } from 'node:module';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../../core/errors.ts';
import { squareImageProcessor } from '../../inference/preprocess.ts';
import type { TinyFaceSpec } from '../../inference/detectors/tiny-face.ts';
import { TINY_FACE_SPEC_FILE } from '../../inference/detectors/tiny-face.ts';
import type { OnnxGraphBuilder } from '../onnx/index.ts';
import {
  buildExpressionNet,
  buildTinyFaceDetector,
  EXPRESSION_INPUT_SIZE,
  EXPRESSION_LABELS,
  EXPRESSION_MEAN_RGB,
  TINY_FACE_IO,
} from './networks.ts';
import { readWeights } from './weights.ts';
import { EMBEDDER_SPEC_FILE, type EmbedderSpec } from '../../inference/face-embedder.ts';
import {
  buildRecognitionNet,
  RECOGNITION_DIMENSIONS,
  RECOGNITION_INPUT_SIZE,
  RECOGNITION_IO,
} from './recognition-net.ts';
import {
  FACEAPI_DETECTOR_DIR,
  FACEAPI_EXPRESSION_DIR,
  faceApiModelPaths,
  type FaceApiModelPaths,
} from '../../inference/detectors/faceapi-dirs.ts';

export { FACEAPI_DETECTOR_DIR, FACEAPI_EXPRESSION_DIR, faceApiModelPaths, type FaceApiModelPaths };

const require = createRequire(import.meta.url);

/** The face-api package: its model/ folder and version. */
export async function faceApiPackage(): Promise<{ modelDir: string; version: string }> {
  let packageJson: string;
  try {
    packageJson = require.resolve('@vladmandic/face-api/package.json');
  } catch (error) {
    throw new FerError('model_missing', 'the npm package @vladmandic/face-api is not installed (run "npm install")', {
      cause: error,
    });
  }
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  return { modelDir: path.join(path.dirname(packageJson), 'model'), version };
}

/**
 * The expression net's preprocessor_config.json. face-api computes (pixel − mean) / 255 =
 * pixel/255 − mean/255: rescale, then normalise with std 1.
 */
// face-api pads each face crop with black to a centred square before resizing.
export const EXPRESSION_PREPROCESSOR = squareImageProcessor(
  EXPRESSION_INPUT_SIZE,
  EXPRESSION_MEAN_RGB.map((m) => m / 255),
  [1, 1, 1],
  { padToSquare: true },
);

export interface BuildResult extends FaceApiModelPaths {
  readonly version: string;
  readonly detectorBytes: number;
  readonly expressionBytes: number;
  readonly recognitionBytes: number;
}

/** Converts the three networks into `outDir`, replacing earlier builds there. */
export async function buildFaceApiModels(
  outDir: string,
  options: { sourceDir?: string; replace?: boolean } = {},
): Promise<BuildResult> {
  const replace = options.replace ?? true;
  const pkg = await faceApiPackage();
  const sourceDir = options.sourceDir ?? pkg.modelDir;
  const source = `@vladmandic/face-api ${pkg.version} (MIT), model/`;
  const paths = faceApiModelPaths(outDir);
  await mkdir(outDir, { recursive: true });

  const detector = buildTinyFaceDetector(await readWeights(sourceDir, 'tiny_face_detector_model'));
  const spec: TinyFaceSpec = {
    type: 'faceapi-tiny-face-detector',
    model: 'model.onnx',
    inputName: TINY_FACE_IO.input,
    outputName: TINY_FACE_IO.output,
    inputSize: 416,
    scoreThreshold: 0.5,
    nmsIou: 0.4,
    maxBatch: 64,
    source: `${source}tiny_face_detector_model`,
    license: 'MIT',
  };
  const detectorBytes = await writeDirectory(
    paths.detectorDir,
    detector,
    'model.onnx',
    { [TINY_FACE_SPEC_FILE]: spec },
    replace,
  );

  const expression = buildExpressionNet(await readWeights(sourceDir, 'face_expression_model'));
  const id2label = Object.fromEntries(EXPRESSION_LABELS.map((label, i) => [String(i), label]));
  const label2id = Object.fromEntries(EXPRESSION_LABELS.map((label, i) => [label, i]));
  const config = {
    architectures: ['FaceApiFaceExpressionNet'],
    model_type: 'faceapi-face-expression',
    num_labels: EXPRESSION_LABELS.length,
    id2label,
    label2id,
    image_size: EXPRESSION_INPUT_SIZE,
    num_channels: 3,
    source: `${source}face_expression_model`,
    license: 'MIT',
  };
  const expressionBytes = await writeDirectory(
    paths.expressionDir,
    expression,
    path.join('onnx', 'model.onnx'),
    {
      'config.json': config,
      'preprocessor_config.json': EXPRESSION_PREPROCESSOR,
    },
    replace,
  );
  const recognition: EmbedderSpec = {
    type: 'faceapi-face-recognition',
    model: 'model.onnx',
    inputName: RECOGNITION_IO.input,
    outputName: RECOGNITION_IO.output,
    inputSize: RECOGNITION_INPUT_SIZE,
    mean: [...EXPRESSION_MEAN_RGB],
    dimensions: RECOGNITION_DIMENSIONS,
    source: `${source}face_recognition_model (dlib ResNet-34 face descriptor)`,
    license: 'MIT',
  };
  const recognitionNet = buildRecognitionNet(await readWeights(sourceDir, 'face_recognition_model'));
  const recognitionBytes = await writeDirectory(
    paths.recognitionDir,
    recognitionNet,
    'model.onnx',
    { [EMBEDDER_SPEC_FILE]: recognition },
    replace,
  );
  return { ...paths, version: pkg.version, detectorBytes, expressionBytes, recognitionBytes };
}

/**
 * Writes a model directory beside `dir` and renames it into place. Without `replace`, a directory
 * that appeared meanwhile (another process building at the same time) is kept and ours dropped:
 * a process may already be loading it.
 */
export async function writeDirectory(
  dir: string,
  graph: OnnxGraphBuilder,
  modelFile: string,
  json: Record<string, unknown>,
  replace: boolean,
): Promise<number> {
  const staging = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`;
  await rm(staging, { recursive: true, force: true });
  try {
    const bytes = await graph.writeFile(path.join(staging, modelFile));
    for (const [file, content] of Object.entries(json))
      await writeFile(path.join(staging, file), `${JSON.stringify(content, null, 2)}\n`);
    if (replace) await rm(dir, { recursive: true, force: true });
    try {
      await rename(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (replace || (code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw error;
    }
    return bytes;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Whether the model directories are present (their key files exist). */
export async function faceApiModelsInstalled(modelsDir: string): Promise<boolean> {
  const { detectorDir, expressionDir, recognitionDir } = faceApiModelPaths(modelsDir);
  const files = [
    path.join(detectorDir, TINY_FACE_SPEC_FILE),
    path.join(detectorDir, 'model.onnx'),
    path.join(expressionDir, 'config.json'),
    path.join(expressionDir, 'onnx', 'model.onnx'),
    path.join(recognitionDir, EMBEDDER_SPEC_FILE),
    path.join(recognitionDir, 'model.onnx'),
  ];
  const found = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  );
  return found.every(Boolean);
}

/** The face-api version an installed conversion came from (its config.json `source`), or null. */
async function installedVersion(modelsDir: string): Promise<string | null> {
  const text = await readFile(path.join(faceApiModelPaths(modelsDir).expressionDir, 'config.json'), 'utf8').catch(
    () => null,
  );
  if (text === null) return null;
  try {
    const source = (JSON.parse(text) as { source?: unknown }).source;
    return typeof source === 'string' ? (/face-api (\S+)/.exec(source)?.[1] ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * The face-api model directories under `modelsDir`, converting them first if they are not there
 * (once: later calls find them) or came from another version of the npm package (after an
 * upgrade). `onBuild` is told before a conversion starts.
 */
export async function ensureFaceApiModels(
  modelsDir: string,
  onBuild?: (paths: FaceApiModelPaths) => void,
): Promise<FaceApiModelPaths> {
  if (await faceApiModelsInstalled(modelsDir)) {
    const { version } = await faceApiPackage();
    if ((await installedVersion(modelsDir)) === version) return faceApiModelPaths(modelsDir);
    onBuild?.(faceApiModelPaths(modelsDir));
    return buildFaceApiModels(modelsDir, { replace: true });
  }
  onBuild?.(faceApiModelPaths(modelsDir));
  return buildFaceApiModels(modelsDir, { replace: false });
}
