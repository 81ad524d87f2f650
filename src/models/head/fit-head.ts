// `models fit-head`: adapts the compact profile's expression net to a user's own labelled faces.
// face-api's expression net stays frozen; its pooled 256-value features of every image are
// computed once, a softmax head (softmax-regression.ts) is fitted on them, and the result is
// written as an ordinary image-classifier directory — the same network with the fitted head as its
// final layer, labelled with the user's classes (canonical names where they are expressions, their
// own otherwise). A stratified, seeded share of each class is held out and scored, next to the
// original head on the same held-out faces where the classes are the seven expressions.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InferenceConfig } from '../../config/inference.ts';
import type { Logger } from '../../core/logger.ts';
import { CANONICAL_EXPRESSIONS, canonicalExpression } from '../../core/expressions.ts';
import { FerError } from '../../core/errors.ts';
import { createInferenceHost, hostOptionsFromConfig } from '../../inference/backend/index.ts';
import { mirrorImage } from '../../inference/ensemble.ts';
import { decodeToRgb, preprocessInto, preprocessedLength } from '../../inference/preprocess.ts';
import type { InferenceHost } from '../../inference/types.ts';
import { EXPRESSION_PREPROCESSOR, faceApiPackage, writeDirectory } from '../faceapi/convert.ts';
import {
  buildExpressionNet,
  EXPRESSION_FEATURES,
  EXPRESSION_INPUT_SIZE,
  EXPRESSION_IO,
  EXPRESSION_LABELS,
} from '../faceapi/networks.ts';
import { readWeights, takeWeight } from '../faceapi/weights.ts';
import { fitSoftmaxHead, predictHead, type SoftmaxHead } from './softmax-regression.ts';

export interface LabelledImage {
  readonly path: string;
  readonly label?: string;
}

export interface FitHeadOptions {
  /** The model directory to write (replaced if there). */
  readonly outDir: string;
  readonly inference: InferenceConfig;
  /** Share of each class held out for scoring (0 = none), 0..0.5. */
  readonly holdout: number;
  /** Also train on each image mirrored (twice the samples; expressions are nearly symmetric). */
  readonly flip: boolean;
  readonly l2?: number;
  readonly seed?: number;
  readonly onProgress?: (images: number) => void;
  readonly logger?: Logger;
}

export interface FitHeadReport {
  readonly dir: string;
  readonly labels: readonly string[];
  readonly trainImages: number;
  readonly heldOutImages: number;
  readonly trainAccuracy: number;
  /** null without a held-out share. */
  readonly heldOutAccuracy: number | null;
  /** face-api's own head on the same held-out faces, where the classes are expressions; else null. */
  readonly baseHeldOutAccuracy: number | null;
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
}

const BATCH = 64;
/** The L2 pull towards face-api's own head (chosen on PublicTest halves: BENCHMARKS.md). */
export const DEFAULT_L2 = 0.1;

/** The class name a label trains as: its canonical expression where it is one, else the label itself. */
const className = (label: string) => canonicalExpression(label) ?? label.trim();

export async function fitExpressionHead(
  images: AsyncIterable<LabelledImage>,
  options: FitHeadOptions,
): Promise<FitHeadReport> {
  if (!(options.holdout >= 0 && options.holdout <= 0.5))
    throw new FerError('invalid_option', `the held-out share must be 0..0.5, got ${options.holdout}`);
  const pkg = await faceApiPackage();
  const weights = await readWeights(pkg.modelDir, 'face_expression_model');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-fit-head-'));
  try {
    const featuresFile = path.join(tmp, 'features.onnx');
    await buildExpressionNet(weights, { features: true }).writeFile(featuresFile);
    const host = await createInferenceHost(hostOptionsFromConfig(options.inference, featuresFile, options.logger));
    let samples: Sample[];
    let skipped: FitHeadReport['skipped'];
    try {
      ({ samples, skipped } = await extractFeatures(host, images, options));
    } finally {
      await host.close();
    }
    const labels = classOrder(samples.map((s) => s.label));
    if (labels.length < 2)
      throw new FerError(
        'invalid_input',
        `fitting a head needs at least two classes; found ${labels.length === 0 ? 'no labelled image' : `only "${labels[0]}"`}`,
      );
    const { train, heldOut } = stratifiedSplit(samples, options.holdout, options.seed ?? 1);
    const index = new Map(labels.map((l, i) => [l, i]));
    const trainX = train.flatMap((s) => (s.mirrored ? [s.features, s.mirrored] : [s.features]));
    const trainY = train.flatMap((s) =>
      s.mirrored ? [index.get(s.label)!, index.get(s.label)!] : [index.get(s.label)!],
    );
    // Start from face-api's own head where a class is one of its expressions, and stay near it.
    const prior = priorHead(weights, labels);
    const head = fitSoftmaxHead(trainX, trainY, labels.length, { l2: options.l2 ?? DEFAULT_L2, prior });
    const accuracy = (set: readonly Sample[], predict: (s: Sample) => string) =>
      set.length === 0 ? null : set.filter((s) => predict(s) === s.label).length / set.length;
    const byHead = (s: Sample) => labels[predictHead(head, s.features)]!;
    const expressions = labels.every((l) => (CANONICAL_EXPRESSIONS as readonly string[]).includes(l));
    const base: SoftmaxHead = {
      weights: takeWeight(weights, 'fc/weights', [256, 7]).data,
      bias: takeWeight(weights, 'fc/bias', [7]).data,
      dimensions: EXPRESSION_FEATURES.dimensions,
      classes: EXPRESSION_LABELS.length,
    };
    const byBase = (s: Sample) => className(EXPRESSION_LABELS[predictHead(base, s.features)]!);

    await writeDirectory(
      options.outDir,
      buildExpressionNet(weights, { head: { weights: head.weights, bias: head.bias, classes: labels.length } }),
      path.join('onnx', 'model.onnx'),
      {
        'config.json': {
          architectures: ['FaceApiFaceExpressionNet'],
          model_type: 'faceapi-face-expression',
          num_labels: labels.length,
          id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
          image_size: EXPRESSION_INPUT_SIZE,
          num_channels: 3,
          source: `@vladmandic/face-api ${pkg.version} (MIT) face_expression_model with a head fitted by fer-stream models fit-head on ${train.length} labelled images`,
          license: 'MIT (the network); the head: from your data',
          fer_stream: {
            fittedHead: {
              trainImages: train.length,
              heldOutImages: heldOut.length,
              flip: options.flip,
              l2: options.l2 ?? 1e-3,
            },
          },
        },
        'preprocessor_config.json': EXPRESSION_PREPROCESSOR,
      },
      true,
    );
    return {
      dir: options.outDir,
      labels,
      trainImages: train.length,
      heldOutImages: heldOut.length,
      trainAccuracy: accuracy(train, byHead)!,
      heldOutAccuracy: accuracy(heldOut, byHead),
      baseHeldOutAccuracy: expressions ? accuracy(heldOut, byBase) : null,
      skipped,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** face-api's final layer re-ordered to `labels` (zero for a class that is not one of its expressions). */
function priorHead(
  weights: Awaited<ReturnType<typeof readWeights>>,
  labels: readonly string[],
): { weights: Float32Array; bias: Float32Array } {
  const d = EXPRESSION_FEATURES.dimensions;
  const w0 = takeWeight(weights, 'fc/weights', [d, 7]).data;
  const b0 = takeWeight(weights, 'fc/bias', [7]).data;
  const source = labels.map((l) => EXPRESSION_LABELS.findIndex((own) => className(own) === l));
  const w = new Float32Array(d * labels.length);
  const b = new Float32Array(labels.length);
  source.forEach((from, k) => {
    if (from < 0) return;
    b[k] = b0[from]!;
    for (let j = 0; j < d; j++) w[j * labels.length + k] = w0[j * 7 + from]!;
  });
  return { weights: w, bias: b };
}

interface Sample {
  readonly label: string;
  readonly features: Float32Array;
  readonly mirrored?: Float32Array;
}

/** Features of every labelled image, batched through the host; unreadable images are skipped and named. */
async function extractFeatures(
  host: InferenceHost,
  images: AsyncIterable<LabelledImage>,
  options: FitHeadOptions,
): Promise<{ samples: Sample[]; skipped: Array<{ path: string; reason: string }> }> {
  const samples: Sample[] = [];
  const skipped: Array<{ path: string; reason: string }> = [];
  let pending: LabelledImage[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    const views = options.flip ? 2 : 1;
    const plane = preprocessedLength(EXPRESSION_PREPROCESSOR);
    const data = new Float32Array(batch.length * views * plane);
    const ok = await Promise.all(
      batch.map(async (image, i) => {
        try {
          const rgb = await decodeToRgb(new Uint8Array(await readFile(image.path)));
          await preprocessInto(rgb, EXPRESSION_PREPROCESSOR, data, i * views * plane);
          if (options.flip)
            await preprocessInto(mirrorImage(rgb), EXPRESSION_PREPROCESSOR, data, (i * views + 1) * plane);
          return true;
        } catch (error) {
          skipped.push({ path: image.path, reason: (error as Error).message });
          return false;
        }
      }),
    );
    const size = EXPRESSION_INPUT_SIZE;
    const out = (await host.run({ [EXPRESSION_IO.input]: { data, dims: [batch.length * views, 3, size, size] } }))[
      EXPRESSION_FEATURES.output
    ]!;
    const d = EXPRESSION_FEATURES.dimensions;
    batch.forEach((image, i) => {
      if (!ok[i]) return;
      const row = (v: number) => out.data.slice((i * views + v) * d, (i * views + v + 1) * d);
      samples.push({ label: className(image.label!), features: row(0), ...(options.flip ? { mirrored: row(1) } : {}) });
    });
    options.onProgress?.(samples.length + skipped.length);
  };
  for await (const image of images) {
    if (image.label === undefined || image.label.trim() === '') {
      skipped.push({ path: image.path, reason: 'no label' });
      continue;
    }
    pending.push(image);
    if (pending.length >= BATCH) await flush();
  }
  if (pending.length > 0) await flush();
  return { samples, skipped };
}

/** Classes in the canonical expression order first, then the others alphabetically. */
function classOrder(labels: readonly string[]): string[] {
  const present = new Set(labels);
  const canonical = CANONICAL_EXPRESSIONS.filter((l) => present.has(l));
  const own = [...present].filter((l) => !(CANONICAL_EXPRESSIONS as readonly string[]).includes(l)).sort();
  return [...canonical, ...own];
}

/** Each class's samples shuffled (seeded) and `share` of them held out (at least one where a class has two or more). */
function stratifiedSplit(
  samples: readonly Sample[],
  share: number,
  seed: number,
): { train: Sample[]; heldOut: Sample[] } {
  let state = seed >>> 0 || 1;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const train: Sample[] = [];
  const heldOut: Sample[] = [];
  const byClass = new Map<string, Sample[]>();
  for (const s of samples) {
    const group = byClass.get(s.label);
    if (group) group.push(s);
    else byClass.set(s.label, [s]);
  }
  for (const group of byClass.values()) {
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j]!, group[i]!];
    }
    const held = share === 0 || group.length < 2 ? 0 : Math.max(1, Math.round(group.length * share));
    heldOut.push(...group.slice(0, held));
    train.push(...group.slice(held));
  }
  return { train, heldOut };
}
