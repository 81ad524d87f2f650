// `fer-stream classify IMAGE... [--model DIR] [--json] [--top K]`: top expression labels of images.
// All images go through one classifier at once, so the dynamic batcher batches them. A bad image
// gets its own error line and a non-zero exit code; the other images are still printed.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../config/index.ts';
import type { Classification } from '../../core/types.ts';
import { createImageClassifier } from '../../inference/classifier.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';

/** Where `fer-stream models fetch` installs the expression ViT under the models directory. */
const DEFAULT_MODEL = 'vit-fer';

type Outcome = { image: string; classification: Classification } | { image: string; error: string };

function top(classification: Classification, labels: readonly string[], k: number): Array<{ label: string; probability: number }> {
  return classification.probabilities
    .map((probability, i) => ({ label: labels[i]!, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

const classify: Command = {
  summary: 'Top expression labels of image files',
  usage: [
    'Usage: fer-stream classify IMAGE... [--model DIR] [--json] [--top K]',
    '',
    '  --model DIR  model directory (config.json, preprocessor_config.json, onnx/model.onnx);',
    `               default: <FER_MODELS_DIR>/${DEFAULT_MODEL}`,
    '  --json       one JSON document: per image its label, top labels and all probabilities, or its error',
    '  --top K      labels printed per image (default 3)',
    '',
    'Exit code 0 when every image was classified, 1 when any image failed.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' },
      json: { type: 'boolean', default: false },
      top: { type: 'string', default: '3' },
    });
    if (positionals.length === 0) throw new UsageError('give at least one image file');
    const k = Number(values.top);
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top must be a positive integer, got "${values.top}"`);

    const config = loadConfig();
    // Logs go to stderr: stdout carries the results (and must stay valid JSON with --json).
    const logger = pino({ name: 'classify', level: config.logLevel }, pino.destination(2));
    const modelDir = values.model ?? path.join(config.modelsDir, DEFAULT_MODEL);
    const classifier = await createImageClassifier(modelDir, { config: config.inference, logger });
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(
        positionals.map(async (image): Promise<Outcome> => {
          try {
            const bytes = await readFile(image).catch((error: NodeJS.ErrnoException) => {
              throw new Error(error.code === 'ENOENT' ? 'file not found' : `cannot read the file: ${error.message}`);
            });
            return { image, classification: await classifier.classify(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) };
          } catch (error) {
            return { image, error: (error as Error).message };
          }
        }),
      );
    } finally {
      await classifier.close();
    }

    if (values.json) {
      const doc = {
        model: { name: classifier.name, dir: modelDir, labels: classifier.labels, executionProvider: classifier.executionProvider },
        images: outcomes.map((o) =>
          'error' in o
            ? { image: o.image, error: o.error }
            : {
                image: o.image,
                label: o.classification.label,
                top: top(o.classification, classifier.labels, k),
                probabilities: Object.fromEntries(classifier.labels.map((l, i) => [l, o.classification.probabilities[i]])),
              },
        ),
      };
      console.log(JSON.stringify(doc, null, 2));
    } else {
      for (const o of outcomes) {
        if ('error' in o) console.error(`${o.image}: error: ${o.error}`);
        else console.log(`${o.image}: ${top(o.classification, classifier.labels, k).map((t) => `${t.label} ${t.probability.toFixed(3)}`).join(', ')}`);
      }
    }
    return outcomes.some((o) => 'error' in o) ? EXIT_CODES.failure : EXIT_CODES.ok;
  },
};

export default classify;
