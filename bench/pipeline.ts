// End to end against the model's own speed, measured in the same run: `session.run` in a loop on
// pre-made tensors (batch 8: the ceiling) against `fer-stream analyze` of a 60 s talking-face video
// at 2 frames/s (120 frames), whole-frame and with face detection (YuNet + ViT), fp32 and int8,
// one video and 8 at once. Each analyze is a fresh CLI process (start-up included in its wall clock).
//
//   FER_SHARED_DIR=../shared npm run bench:pipeline [-- --rounds 2] [--seconds 8] [--multi 8] [--json FILE]
//
// Figures: frames/s = analysed frames / processing time (first start → last completion, from the
// results); "× ceiling" against the same variant's ceiling measured right before and right after
// that analyze (their mean): these machines drift by ±15 % within minutes, and a ceiling measured
// once per round put that drift into the ratios of the rows measured long after it.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { analyze, ceiling, range, type AnalyzeRun } from './pipeline/measure.ts';
import { BENCH_DIR, benchModels, linkInto, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    multi: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const multi = Number(values.multi);
const shared = process.env.FER_SHARED_DIR;

const models = await benchModels(shared);
const { file: video, source } = await talkingFaceVideo(shared);
const copies = Array.from({ length: multi }, (_, i) =>
  linkInto(path.join(BENCH_DIR, 'multi'), video, `talking-${i}.mp4`),
);
const VARIANTS = { fp32: 'model', int8: 'model_quantized' } as const;
type Variant = keyof typeof VARIANTS;

interface Row {
  readonly what: string;
  readonly variant: Variant;
  readonly round: number;
  readonly framesPerSecond: number;
  readonly ceiling: number;
  readonly run?: AnalyzeRun;
}
const rows: Row[] = [];

for (let round = 1; round <= rounds; round++) {
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    // Every frame classified (FER_REUSE_MAX_FRAMES=0): the pipeline against the model; the rows
    // marked "reuse on" show the default's classifying only what changed on top (bench:reuse).
    const env = { FER_MODELS_DIR: models.modelsDir, FER_MODEL_VARIANT: VARIANTS[variant], FER_REUSE_MAX_FRAMES: '0' };
    const measureCeiling = () =>
      ceiling(path.join(models.vitDir, 'onnx', `${VARIANTS[variant]}.onnx`), {
        batch: 8,
        seconds: Number(values.seconds),
        intraOpThreads: 'auto',
      });
    let before = await measureCeiling();
    rows.push({
      what: 'ceiling: session.run loop, batch 8, pre-made tensors',
      variant,
      round,
      framesPerSecond: before,
      ceiling: before,
    });
    console.error(`round ${round} ${variant}: ceiling ${before.toFixed(2)} img/s`);
    const cases: Array<[string, readonly string[], string[]]> = [
      ['analyze --no-detect, 1 video', [video], ['--no-detect', '--model', models.vitDir]],
      ...(models.detector
        ? ([['analyze --profile vit (YuNet + ViT), 1 video', [video], ['--profile', 'vit']]] as Array<
            [string, readonly string[], string[]]
          >)
        : []),
      [
        'analyze --no-detect, 1 video, FER_MAX_BATCH_SIZE=16 (memory)',
        [video],
        ['--no-detect', '--model', models.vitDir],
      ],
      ...(models.detector
        ? ([['analyze --profile vit, 1 video, reuse on (the default)', [video], ['--profile', 'vit']]] as Array<
            [string, readonly string[], string[]]
          >)
        : []),
      [
        `analyze --no-detect, ${multi} videos at once`,
        copies,
        ['--no-detect', '--model', models.vitDir, '--max-frames', String(Math.ceil(120 / multi))],
      ],
      ...(models.detector
        ? ([
            [
              `analyze --profile vit, ${multi} videos at once`,
              copies,
              ['--profile', 'vit', '--max-frames', String(Math.ceil(120 / multi))],
            ],
          ] as Array<[string, readonly string[], string[]]>)
        : []),
    ];
    for (const [what, videos, args] of cases) {
      // "reuse on" takes the configuration's default gate (the env above turns it off for the rest).
      const rowEnv: Record<string, string> = {
        ...env,
        ...(what.includes('BATCH_SIZE=16') ? { FER_MAX_BATCH_SIZE: '16' } : {}),
      };
      if (what.includes('reuse on')) delete rowEnv.FER_REUSE_MAX_FRAMES;
      const run = await analyze(videos, ['--fps', '2', ...args], rowEnv);
      const after = await measureCeiling();
      rows.push({
        what: 'ceiling: session.run loop, batch 8, pre-made tensors',
        variant,
        round,
        framesPerSecond: after,
        ceiling: after,
      });
      const top = (before + after) / 2;
      rows.push({ what, variant, round, framesPerSecond: run.framesPerSecond, ceiling: top, run });
      console.error(
        `  ${what}: ${run.framesPerSecond.toFixed(2)} frames/s (${(run.framesPerSecond / top).toFixed(2)} × ceiling ${before.toFixed(2)}…${after.toFixed(2)}), wall ${(run.wallMs / 1000).toFixed(1)} s for ${run.frames} frames`,
      );
      before = after;
    }
  }
}

console.log(
  `\nbench:pipeline — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; video: ${source}, 60 s at 2 frames/s; ${rounds} round(s)\n`,
);
console.log('| what | variant | frames/s | × ceiling | wall clock − processing (s) | peak RSS (MB) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
const keys = [...new Set(rows.map((r) => `${r.what}\u0000${r.variant}`))];
for (const key of keys) {
  const [what, variant] = key.split('\u0000') as [string, Variant];
  const same = rows.filter((r) => r.what === what && r.variant === variant);
  const overhead = same
    .filter((r) => r.run && !what.includes('at once'))
    .map((r) => (r.run!.wallMs - r.run!.processingMs) / 1000);
  const rss = same.filter((r) => r.run).map((r) => r.run!.peakRssMb);
  console.log(
    `| ${what} | ${variant} | ${range(same.map((r) => r.framesPerSecond))} | ${range(same.map((r) => r.framesPerSecond / r.ceiling))} | ${overhead.length ? range(overhead, 1) : '—'} | ${rss.length ? range(rss, 0) : '—'} |`,
  );
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`, video: source, rows },
      null,
      2,
    ),
  );
