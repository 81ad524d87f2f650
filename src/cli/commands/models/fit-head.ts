// `fer-stream models fit-head --data DIR|CSV [--out DIR] [--holdout F] [--flip] [--l2 X] [--json]`:
// fits a softmax head on face-api's frozen expression features to the user's labelled face crops
// (src/models/head) and writes a model directory any profile takes with --model.

import path from 'node:path';
import { loadConfig } from '../../../config/index.ts';
import { listImages } from '../../../evaluation/image-set.ts';
import { fitExpressionHead } from '../../../models/head/fit-head.ts';
import { parseCommandArgs, UsageError } from '../../args.ts';
import { createCommandLogger } from '../../terminal-log.ts';
import { EXIT_CODES, type Command } from '../../command.ts';

const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);

const fitHead: Pick<Command, 'run'> = {
  async run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        data: { type: 'string', multiple: true },
        out: { type: 'string' },
        holdout: { type: 'string', default: '0.2' },
        flip: { type: 'boolean', default: false },
        l2: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      false,
    );
    if (!values.data?.length)
      throw new UsageError(
        'give the labelled faces: --data DIR (one folder per label) or --data FILE.csv (path,label)',
      );
    const holdout = Number(values.holdout);
    if (!(holdout >= 0 && holdout <= 0.5))
      throw new UsageError(`--holdout must be a share 0..0.5, got "${values.holdout}"`);
    const l2 = values.l2 === undefined ? undefined : Number(values.l2);
    if (l2 !== undefined && !(l2 >= 0)) throw new UsageError(`--l2 must be ≥ 0, got "${values.l2}"`);
    const config = loadConfig();
    const outDir = path.resolve(values.out ?? path.join(config.modelsDir, 'faceapi-fitted-head'));
    const report = await fitExpressionHead(
      listImages(
        values.data.map((d) => path.resolve(d)),
        { labelled: true },
      ),
      {
        outDir,
        inference: config.inference,
        holdout,
        flip: values.flip,
        logger: createCommandLogger('fit-head', () => undefined),
        ...(l2 !== undefined ? { l2 } : {}),
        onProgress: (n) => {
          if (!values.json && process.stderr.isTTY) process.stderr.write(`\rfeatures of ${n} images`);
        },
      },
    );
    if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(
        `fitted a head for ${report.labels.length} classes (${report.labels.join(', ')}) on ${report.trainImages} images${values.flip ? ' and their mirror images' : ''}`,
      );
      console.log(
        `  accuracy: training ${pct(report.trainAccuracy)}, held out (${report.heldOutImages} images) ${pct(report.heldOutAccuracy)}${report.baseHeldOutAccuracy !== null ? `; face-api's own head on the same held-out images ${pct(report.baseHeldOutAccuracy)}` : ''}`,
      );
      for (const s of report.skipped.slice(0, 10)) console.log(`  skipped ${s.path}: ${s.reason}`);
      if (report.skipped.length > 10) console.log(`  … and ${report.skipped.length - 10} more skipped`);
      console.log(`wrote ${report.dir} — use it with --model ${report.dir} (analyze, worker, classify, eval)`);
    }
    return EXIT_CODES.ok;
  },
};

export default fitHead;
