// onnxruntime's intra-op thread count: what FER_INTRA_OP_THREADS=auto (the CPUs this process can
// use) gives against onnxruntime's own choice (0) and fixed counts, on the model alone (the
// ceiling loop, with the cores it keeps busy) and end to end (`fer-stream analyze --no-detect` of
// the 120-frame talking-face video, every frame classified), the settings alternating in each round.
//
//   FER_SHARED_DIR=../shared npm run bench:threads [-- --settings 0,auto] [--variants model_quantized,model] [--rounds
//   3] [--json FILE]

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveIntraOpThreads, type IntraOpThreadsSetting } from '../src/inference/backend/intra-op-threads.ts';
import { analyze, ceilingWithCpu, range } from './pipeline/measure.ts';
import { benchModels, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: {
    settings: { type: 'string', default: '0,auto' },
    variants: { type: 'string', default: 'model_quantized,model' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '6' },
    json: { type: 'string' },
  },
});
const settings = values.settings!.split(',').map((s): IntraOpThreadsSetting => (s === 'auto' ? 'auto' : Number(s)));
const variants = values.variants!.split(',');
const shared = process.env.FER_SHARED_DIR;
const models = await benchModels(shared);
const { file: video, source } = await talkingFaceVideo(shared);

interface Row {
  readonly variant: string;
  readonly setting: IntraOpThreadsSetting;
  readonly ceiling: number;
  /** Cores the ceiling loop kept busy (process CPU time / wall time). */
  readonly coresBusy: number;
  readonly framesPerSecond: number;
  readonly wallMs: number;
}
const rows: Row[] = [];
for (const variant of variants) {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const setting of settings) {
      const top = await ceilingWithCpu(path.join(models.vitDir, 'onnx', `${variant}.onnx`), {
        batch: 8,
        seconds: Number(values.seconds),
        intraOpThreads: setting,
      });
      const run = await analyze([video], ['--fps', '2', '--no-detect', '--model', models.vitDir], {
        FER_MODELS_DIR: models.modelsDir,
        FER_MODEL_VARIANT: variant,
        FER_REUSE_MAX_FRAMES: '0',
        FER_INTRA_OP_THREADS: String(setting),
      });
      const coresBusy = (top.cpuMsPerImage * top.imagesPerSecond) / 1000;
      rows.push({
        variant,
        setting,
        ceiling: top.imagesPerSecond,
        coresBusy,
        framesPerSecond: run.framesPerSecond,
        wallMs: run.wallMs,
      });
      console.error(
        `${variant} round ${round} FER_INTRA_OP_THREADS=${setting}: ceiling ${top.imagesPerSecond.toFixed(2)} img/s (${coresBusy.toFixed(2)} cores busy), analyze ${run.framesPerSecond.toFixed(2)} frames/s`,
      );
    }
  }
}

const auto = resolveIntraOpThreads('auto');
console.log(
  `\nbench:threads — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; auto = ${auto.threads} (${auto.why}); video: ${source}, 120 frames; ${values.rounds} round(s), settings alternating\n`,
);
console.log(
  `| variant | FER_INTRA_OP_THREADS | ceiling (img/s) | cores busy | analyze (frames/s) | analyze ÷ the first setting's, same round |`,
);
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const variant of variants) {
  const first = rows.filter((r) => r.variant === variant && r.setting === settings[0]);
  for (const setting of settings) {
    const same = rows.filter((r) => r.variant === variant && r.setting === setting);
    console.log(
      `| ${variant} | ${setting} | ${range(same.map((r) => r.ceiling))} | ${range(same.map((r) => r.coresBusy))} | ${range(same.map((r) => r.framesPerSecond))} | ${range(same.map((r, i) => r.framesPerSecond / first[i]!.framesPerSecond))} |`,
    );
  }
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`, auto, rows },
      null,
      2,
    ),
  );
