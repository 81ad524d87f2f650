// `fer-stream eval DATA... [--profile P] [--model DIR]... [--flip] [--no-detect] [--out DIR] [--json]`:
// how often the models' answers are right on labelled faces. DATA is a folder of LABEL/ sub-folders
// or a CSV of path,label rows. Prints scikit-learn's classification report and writes it as JSON
// and CSV with the confusion matrix and a chart (confusion + reliability diagram, SVG and PNG).
// Images stream through a bounded window (evaluation/run-images.ts): any number, flat memory.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { Evaluation, type EvaluationSummary } from '../../evaluation/evaluate.ts';
import { listImages } from '../../evaluation/image-set.ts';
import { confusionCsv, reportCsv, reportPng, reportSvg, reportText } from '../../evaluation/report-files.ts';
import { runImages } from '../../evaluation/run-images.ts';
import type { ProfileChoice } from '../../inference/profiles.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { applyNoDetect, NO_DETECT_OPTION } from '../faces-options.ts';
import { createFrameAnalyzer, profileExpressionDirs } from '../../app/frame-analyzer.ts';
import { createCommandLogger } from '../terminal-log.ts';
import { ImageProgress } from '../image-progress.ts';

const evaluate: Command = {
  summary: 'Accuracy, per-class precision/recall/F1, confusion and calibration on labelled faces',
  usage: [
    'Usage: fer-stream eval DATA... [--profile compact|vit|auto] [--model DIR]... [--flip] [--no-detect] [--out DIR] [--json]',
    '',
    '  DATA         a folder with one sub-folder per label (DATA/happy/*.jpg, …), or a CSV of path,label',
    '               (paths relative to the CSV). Labels are mapped to angry, disgust, fear, happy,',
    '               neutral, sad, surprise (anger, fearful, surprised … are understood)',
    '  --profile P  models, as for analyze (default FER_PROFILE)',
    '  --model DIR  the expression model; give it twice or more to score the average of their probabilities',
    '  --flip       average each face with its mirror image',
    '  --no-detect  classify each whole image (data that are already face crops, e.g. FER2013);',
    "               without --model: the profile's expression model(s)",
    '  --out DIR    where report.json, report.csv, confusion.csv, report.svg and report.png go (default fer-eval)',
    '  --json       print the report as JSON instead of the table',
    '',
    'With detection, the largest face of each image is scored; images without a face are counted',
    '(coverage), not scored. Exit code 0 when every image was read, 3 when some could not be.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string', multiple: true },
      profile: { type: 'string' },
      flip: { type: 'boolean', default: false },
      out: { type: 'string', default: 'fer-eval' },
      json: { type: 'boolean', default: false },
      ...NO_DETECT_OPTION,
    });
    if (positionals.length === 0) throw new UsageError('give a labelled folder (LABEL/*.jpg) or a CSV of path,label');
    const kind = applyNoDetect(undefined, values['no-detect']);
    // Still images have no tracks to join into persons: no identity descriptors.
    const config = loadConfig(process.env, { faces: { persons: false } });
    const logger = createCommandLogger('eval', () => undefined);
    const onProfile = (c: ProfileChoice) => {
      if (!c.explicit) console.error(`profile: ${c.profile} — ${c.reason} (choose with --profile)`);
    };
    const modelDirs =
      values.model ??
      (kind === 'whole-frame' ? await profileExpressionDirs(config, values.profile, onProfile) : undefined);
    const analyzer = await createFrameAnalyzer({
      kind,
      config,
      profile: values.profile,
      onProfile,
      logger,
      flip: values.flip,
      ...(modelDirs ? { modelDir: modelDirs } : {}),
    });

    const evaluation = new Evaluation(analyzer.info.labels);
    const progress = new ImageProgress(process.stderr, 'eval');
    let summary: EvaluationSummary;
    try {
      for await (const outcome of runImages(listImages(positionals, { labelled: true }), {
        analyze: (image) => analyzer.analyze(image),
        maxPixels: config.inference.maxImagePixels,
      })) {
        evaluation.add(outcome);
        progress.tick('error' in outcome);
      }
      summary = evaluation.summary();
    } finally {
      progress.done();
      await analyzer.close();
    }
    const title = `${analyzer.info.name}${analyzer.info.detector ? ` with ${analyzer.info.detector}` : ' (whole images)'} on ${positionals.map((p) => path.basename(path.resolve(p))).join(', ')}`;
    const document = {
      data: positionals,
      model: {
        name: analyzer.info.name,
        labels: analyzer.info.labels,
        detector: analyzer.info.detector ?? null,
        ...(analyzer.info.modelLabels ? { modelLabels: analyzer.info.modelLabels } : {}),
        preprocessing: analyzer.info.preprocessing,
      },
      ...summary,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    await mkdir(values.out, { recursive: true });
    await Promise.all([
      writeFile(path.join(values.out, 'report.json'), `${JSON.stringify(document, null, 2)}\n`),
      writeFile(path.join(values.out, 'report.csv'), reportCsv(summary.report)),
      writeFile(path.join(values.out, 'confusion.csv'), confusionCsv(summary.report)),
      writeFile(path.join(values.out, 'report.svg'), reportSvg(summary.report, title)),
      reportPng(summary.report, title).then((png) => writeFile(path.join(values.out, 'report.png'), png)),
    ]);
    if (values.json) {
      console.log(JSON.stringify(document, null, 2));
    } else {
      console.log(title);
      console.log(reportText(summary.report));
      if (analyzer.info.detector)
        console.log(
          `faces: none found in ${summary.noFace} image(s), several in ${summary.severalFaces} (the largest scored); coverage ${(100 * summary.coverage).toFixed(1)} %`,
        );
      console.log(
        `${summary.images} images, ${summary.failed.count} unreadable; peak RSS ${(document.peakRssBytes / 1e6).toFixed(0)} MB; written to ${values.out}/ (report.json, report.csv, confusion.csv, report.svg, report.png)`,
      );
    }
    for (const f of summary.failed.examples) console.error(`${f.path}: error: ${f.error}`);
    if (summary.report.total === 0) return EXIT_CODES.failure;
    return summary.failed.count > 0 ? EXIT_CODES.partial : EXIT_CODES.ok;
  },
};

export default evaluate;
