// One expression answer from several classifiers and views of a face: the mean of the members'
// probabilities (each over the same canonical labels), optionally over the mirrored face too
// (test-time horizontal-flip averaging: expressions are nearly symmetric, a net's errors are not).
// Members run concurrently, each batching through its own batcher, so an ensemble of two small
// nets costs about the sum of their CPU, not more latency per face.

import type { Classification, ModelInfo, RgbImage } from '../core/types.ts';
import { FerError } from '../core/errors.ts';
import { classificationFrom, createImageClassifier, type ClassifierOptions } from './classifier.ts';
import type { ExecutionProviderName, ImageClassifier, ImageInput } from './types.ts';

type Member = ImageClassifier & { readonly info?: ModelInfo };

/** The image mirrored left to right (a new buffer). */
export function mirrorImage(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const from = row + x * 3;
      const to = row + (width - 1 - x) * 3;
      out[to] = data[from]!;
      out[to + 1] = data[from + 1]!;
      out[to + 2] = data[from + 2]!;
    }
  }
  return { width, height, data: out };
}

export interface EnsembleOptions {
  /** Also classify each face mirrored and average it in. */
  readonly flip: boolean;
}

export class EnsembleClassifier implements ImageClassifier {
  readonly name: string;
  readonly labels: readonly string[];
  readonly info: ModelInfo;

  constructor(
    private readonly members: readonly Member[],
    private readonly options: EnsembleOptions,
  ) {
    if (members.length === 0) throw new RangeError('an ensemble needs at least one classifier');
    const [first] = members;
    for (const m of members) {
      if (m.labels.join(',') !== first!.labels.join(',')) {
        throw new FerError(
          'model_invalid',
          `models ${first!.name} and ${m.name} answer in different labels ([${first!.labels.join(', ')}] and [${m.labels.join(', ')}]): only models whose labels map onto the same expressions can be averaged`,
        );
      }
    }
    this.labels = first!.labels;
    this.name = members.map((m) => m.name).join('+') + (options.flip ? '+flip' : '');
    this.info = {
      name: this.name,
      labels: this.labels,
      preprocessing: {
        ensemble: members.map((m) => m.info ?? { name: m.name, labels: m.labels }),
        flipAveraging: options.flip,
      },
      executionProvider: first!.executionProvider,
    };
  }

  get executionProvider(): ExecutionProviderName {
    return this.members[0]!.executionProvider;
  }

  async classify(image: ImageInput): Promise<Classification> {
    const views: ImageInput[] = [image];
    if (this.options.flip) {
      if (image instanceof Uint8Array)
        throw new FerError('image_unsupported', 'flip averaging needs decoded pixels, not an encoded file');
      views.push(mirrorImage(image));
    }
    const answers = await Promise.all(this.members.flatMap((m) => views.map((v) => m.classify(v))));
    const mean = this.labels.map((_, i) => answers.reduce((sum, a) => sum + a.probabilities[i]!, 0) / answers.length);
    return classificationFrom(mean, this.labels);
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }
}

/**
 * The classifier of `dirs`: the one model as it is, or several (and/or flip averaging) as an
 * ensemble. Models load concurrently; if one fails, those already started are closed again.
 */
export async function createExpressionClassifier(
  dirs: readonly string[],
  options: ClassifierOptions & EnsembleOptions,
): Promise<ImageClassifier & { readonly info?: ModelInfo }> {
  if (dirs.length === 0) throw new RangeError('at least one expression model directory is needed');
  const loads = await Promise.allSettled(dirs.map((dir) => createImageClassifier(dir, options)));
  const failed = loads.find((l) => l.status === 'rejected');
  const loaded = loads.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : []));
  try {
    if (failed !== undefined) throw failed.reason;
    if (loaded.length === 1 && !options.flip) return loaded[0]!;
    return new EnsembleClassifier(loaded, { flip: options.flip });
  } catch (error) {
    await Promise.all(loaded.map((c) => c.close()));
    throw error;
  }
}
