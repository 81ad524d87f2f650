// `fer-stream classify IMAGE... [--profile P] [--model DIR] [--no-detect] [--json] [--top K]`: the
// faces in image files and the expression of each. Faces are detected first, as in videos (a group
// photo gives one answer per person, not one for the whole picture); --no-detect classifies each
// whole image (inputs that are already face crops). Images (files or folders, any number) stream
// through one analyzer with a bounded window in flight, so its batchers batch them. A bad image
// gets its own error line and a non-zero exit code; the other images are still printed.

import { loadConfig } from '../../config/index.ts';
import type { Classification, FaceResult } from '../../core/types.ts';
import type { ProfileChoice } from '../../inference/profiles.ts';
import { listImages } from '../../evaluation/image-set.ts';
import { runImages } from '../../evaluation/run-images.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { applyNoDetect, NO_DETECT_OPTION } from '../faces-options.ts';
import { createFrameAnalyzer, DEFAULT_MODEL } from '../../app/frame-analyzer.ts';
import { createCommandLogger } from '../terminal-log.ts';
import { ImageProgress } from '../image-progress.ts';

function top(
  classification: Classification,
  labels: readonly string[],
  k: number,
): Array<{ label: string; probability: number }> {
  return classification.probabilities
    .map((probability, i) => ({ label: labels[i]!, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

const classify: Command = {
  summary: 'The faces in image files and the expression of each',
  usage: [
    'Usage: fer-stream classify IMAGE|FOLDER... [--profile compact|vit|auto] [--model DIR] [--no-detect] [--json] [--top K]',
    '',
    '  --profile P  models, as for analyze (default FER_PROFILE: auto = vit when installed, else compact)',
    '  --model DIR  the expression model directory (config.json, preprocessor_config.json, onnx/model.onnx);',
    '               faces are still detected first',
    '  --no-detect  classify each whole image as one face (images that are already face crops);',
    `               model: --model, default <FER_MODELS_DIR>/${DEFAULT_MODEL}`,
    '  --json       one JSON document: per image its faces (box, detector score, label, top labels,',
    '               probabilities) or its error',
    '  --top K      labels printed per face (default 3)',
    '',
    'A folder is read recursively (jpg, png, webp, gif, tiff, avif, heic). Any number of images: a few',
    'dozen are in flight at a time.',
    'Exit code 0 when every image was read (with or without faces), 1 when any image failed.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'boolean', default: false },
      top: { type: 'string', default: '3' },
      ...NO_DETECT_OPTION,
    });
    if (positionals.length === 0) throw new UsageError('give at least one image file');
    const k = Number(values.top);
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`--top must be a positive integer, got "${values.top}"`);
    const kind = applyNoDetect(undefined, values['no-detect']);
    if (kind === 'whole-frame' && values.profile !== undefined)
      throw new UsageError('--no-detect classifies whole images with --model; it takes no --profile');

    // Still images have no tracks to join into persons: no identity descriptors.
    const config = loadConfig(process.env, { faces: { persons: false } });
    // Logs go to stderr: stdout carries the results (and must stay valid JSON with --json).
    const logger = createCommandLogger('classify', () => undefined);
    const onProfile = (c: ProfileChoice) => {
      if (!c.explicit) console.error(`profile: ${c.profile} — ${c.reason} (choose with --profile)`);
    };
    const analyzer = await createFrameAnalyzer({
      kind,
      config,
      profile: values.profile,
      onProfile,
      logger,
      ...(values.model ? { modelDir: values.model } : {}),
    }).catch((error: Error & { code?: string }) => {
      if (error.code === 'model_missing' && kind === 'whole-frame' && values.model === undefined) {
        throw new Error(
          `${error.message}. Without --no-detect, classify detects faces with the compact profile, which needs no download; or install the ViT: fer-stream models fetch vit-fer`,
        );
      }
      throw error;
    });
    const { labels } = analyzer.info;
    const wholeImage = analyzer.info.detector === undefined || analyzer.info.detector === null;
    const faceJson = (f: FaceResult) => ({
      box: f.box,
      detectorScore: f.detectorScore,
      label: f.label,
      top: top(f, labels, k),
      probabilities: Object.fromEntries(labels.map((l, i) => [l, f.probabilities[i]])),
      ...(f.landmarks ? { landmarks: f.landmarks } : {}),
    });
    const images: unknown[] = [];
    let failed = 0;
    const progress = values.json || process.stdout.isTTY ? undefined : new ImageProgress(process.stderr, 'classify');
    try {
      // A bounded window of images in flight, printed in input order as they finish (evaluation/run-images.ts).
      for await (const o of runImages(listImages(positionals, { labelled: false }), {
        analyze: (rgb) => analyzer.analyze(rgb),
        maxPixels: config.inference.maxImagePixels,
      })) {
        const image = o.entry.path;
        progress?.tick('error' in o);
        if ('error' in o) {
          failed++;
          if (values.json) images.push({ image, error: o.error });
          else console.error(`${image}: error: ${o.error}`);
        } else if (values.json) {
          images.push({ image, faces: o.faces.map(faceJson) });
        } else if (wholeImage) {
          console.log(
            `${image}: ${top(o.faces[0]!, labels, k)
              .map((t) => `${t.label} ${t.probability.toFixed(3)}`)
              .join(', ')}`,
          );
        } else if (o.faces.length === 0) {
          console.log(`${image}: no face found (--no-detect classifies the whole image)`);
        } else {
          console.log(`${image}: ${o.faces.length} face${o.faces.length === 1 ? '' : 's'}`);
          // Left to right, as a reader scans the picture.
          [...o.faces]
            .sort((a, b) => a.box.x - b.box.x)
            .forEach((f, i) => {
              const b = f.box;
              console.log(
                `  face ${i + 1} at ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}×${Math.round(b.height)} (score ${(f.detectorScore ?? 0).toFixed(2)}): ${top(
                  f,
                  labels,
                  k,
                )
                  .map((t) => `${t.label} ${t.probability.toFixed(3)}`)
                  .join(', ')}`,
              );
            });
        }
      }
    } finally {
      progress?.done();
      await analyzer.close();
    }
    if (values.json) {
      const model = {
        name: analyzer.info.name,
        detector: analyzer.info.detector ?? null,
        labels,
        ...(analyzer.info.modelLabels ? { modelLabels: analyzer.info.modelLabels } : {}),
        executionProvider: analyzer.info.executionProvider,
      };
      console.log(JSON.stringify({ model, images }, null, 2));
    }
    return failed > 0 ? EXIT_CODES.failure : EXIT_CODES.ok;
  },
};

export default classify;
