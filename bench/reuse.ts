// Classifying only what changed (FER_REUSE_MAX_FRAMES, FER_REUSE_THRESHOLD), on talking-head
// videos: how many faces reuse an earlier classification, how often the reused label is the one
// classifying the face again gives, and what that does to faces/s — all in one run.
//
//   FER_SHARED_DIR=../shared npm run bench:reuse [-- --json FILE] [--videos TEXT]
//
// ≈25 min on 2 cores: the speed rounds classify every face of GRID at 25 frames/s (1,500 faces) and
// of the 25 frames/s pan (1,140) too. --videos runs only the videos whose name contains TEXT.
//
// Videos: the GRID clips concatenated to 60 s (a speaker talking, 25 frames/s) and the demo's pan
// over face-api's six photos (faces moving), made at 10 frames/s (the demo's) and at 25 (a
// camera's), each sampled at several rates up to every frame: how much stays unchanged from one
// sample to the next depends on how far apart they are. Agreement needs a trained classifier: YuNet
// (frame size) + face-api's expression net (trained, from npm), every face classified against
// gated, faces matched by frame and box (the same detector finds the same boxes). Speed: YuNet +
// the int8 ViT-B/16 (synthetic weights: the work is the same), gated against every face, faces per
// second of processing time.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeDemoVideo } from '../src/cli/demo/make-video.ts';
import { loadConfig } from '../src/config/index.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';
import { range } from './pipeline/measure.ts';
import { reuseBounds, type ReuseBounds } from './reuse/bounds.ts';
import { analyzeResults, type FaceRow } from './reuse/run.ts';
import { BENCH_DIR, benchModels, talkingFaceVideo } from './pipeline/setup.ts';

const { values } = parseArgs({ options: { json: { type: 'string' }, videos: { type: 'string' } } });
const shared = process.env.FER_SHARED_DIR;
const models = await benchModels(shared);
if (!models.detector) throw new Error('bench:reuse needs YuNet: set FER_SHARED_DIR to ../shared (models/yunet)');
const { expressionDir } = await ensureFaceApiModels(models.modelsDir);
const grid = await talkingFaceVideo(shared);
const pan = (await makeDemoVideo({ out: path.join(BENCH_DIR, 'demo-pan.mp4') })).file;
const pan25 = (await makeDemoVideo({ out: path.join(BENCH_DIR, 'demo-pan-25.mp4'), fps: 25 })).file;
// Rates up to each video's own (GRID 25 fps, the pan 10 or 25: above that, samples repeat frames).
const VIDEOS = [
  ...[2, 10, 25].map((fps) => ({
    name: `GRID talking 60 s @ ${fps} fps${fps === 25 ? ' (every frame)' : ''}`,
    file: grid.file,
    fps,
  })),
  ...[5, 10].map((fps) => ({
    name: `demo pan 12 s @ ${fps} fps${fps === 10 ? ' (every frame)' : ''}`,
    file: pan,
    fps,
  })),
  { name: 'demo pan 12 s made at 25 fps @ 25 fps (every frame)', file: pan25, fps: 25 },
].filter((video) => values.videos === undefined || video.name.includes(values.videos));
if (VIDEOS.length === 0) throw new Error(`no video's name contains "${values.videos}"`);
const GATES = [0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.03].flatMap((threshold) =>
  [4, 8].map((maxFrames) => ({ maxFrames, threshold })),
);
const base = { FER_MODELS_DIR: models.modelsDir };
const gateEnv = (g: { maxFrames: number; threshold: number } | null): Record<string, string> =>
  g
    ? { FER_REUSE_MAX_FRAMES: String(g.maxFrames), FER_REUSE_THRESHOLD: String(g.threshold) }
    : { FER_REUSE_MAX_FRAMES: '0' };
const key = (f: FaceRow) => `${f.frame}:${f.box.x},${f.box.y},${f.box.width},${f.box.height}`;

interface Row {
  readonly video: string;
  readonly gate: string;
  readonly faces: number;
  readonly reusedShare: number;
  readonly agreement: number;
}
const rows: Row[] = [];
const bounds: Array<{ video: string } & ReuseBounds> = [];
for (const video of VIDEOS) {
  const args = ['--fps', String(video.fps), '--profile', 'vit', '--model', expressionDir];
  const every = await analyzeResults(video.file, args, { ...base, ...gateEnv(null) });
  const truth = new Map(every.faces.map((f) => [key(f), f.label]));
  bounds.push({ video: video.name, ...reuseBounds(every.faces, 4) });
  for (const gate of GATES) {
    const gated = await analyzeResults(video.file, args, { ...base, ...gateEnv(gate) });
    const matched = gated.faces.filter((f) => truth.has(key(f)));
    const agree = matched.filter((f) => truth.get(key(f)) === f.label).length;
    rows.push({
      video: video.name,
      gate: `K=${gate.maxFrames}, threshold ${gate.threshold}`,
      faces: gated.faces.length,
      reusedShare: gated.faces.filter((f) => f.reused).length / gated.faces.length,
      agreement: agree / Math.max(1, every.faces.length),
    });
    console.error(
      `${video.name} ${rows.at(-1)!.gate}: ${(rows.at(-1)!.reusedShare * 100).toFixed(1)} % reused, ${(rows.at(-1)!.agreement * 100).toFixed(1)} % agreement (${gated.faces.length} vs ${every.faces.length} faces)`,
    );
  }
}

// The default: the most reuse (least on any video and rate, then the mean) whose agreement is at
// least 98 % on every one.
const least = (c: { mine: Row[] }) => Math.min(...c.mine.map((r) => r.reusedShare));
const mean = (c: { mine: Row[] }) => c.mine.reduce((sum, r) => sum + r.reusedShare, 0) / c.mine.length;
const choices = GATES.map((g) => ({ g, label: `K=${g.maxFrames}, threshold ${g.threshold}` }))
  .map(({ g, label }) => ({ g, label, mine: rows.filter((r) => r.gate === label) }))
  .filter((c) => c.mine.every((r) => r.agreement >= 0.98))
  .sort((a, b) => least(b) - least(a) || mean(b) - mean(a));
const chosen = choices[0];
// A gate chosen on some of the videos says nothing: a run with --videos measures the speed of the
// configuration's default gate instead.
const defaults = loadConfig({}).faces;
const speedGate =
  values.videos === undefined ? chosen?.g : { maxFrames: defaults.reuseMaxFrames, threshold: defaults.reuseThreshold };

// Two rounds, every-face and gated alternating, so a slow moment of the machine hits both.
const speed: Array<{ video: string; every: number; gated: number }> = [];
if (speedGate) {
  for (let round = 0; round < 2; round++) {
    for (const video of VIDEOS) {
      const args = ['--fps', String(video.fps), '--profile', 'vit'];
      const env = { ...base, FER_MODEL_VARIANT: 'model_quantized' };
      const every = await analyzeResults(video.file, args, { ...env, ...gateEnv(null) });
      const gated = await analyzeResults(video.file, args, { ...env, ...gateEnv(speedGate) });
      speed.push({
        video: video.name,
        every: every.faces.length / every.seconds,
        gated: gated.faces.length / gated.seconds,
      });
    }
  }
}

console.log(
  `\nbench:reuse — ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log('| video | gate | faces | reused | top-label agreement vs every face classified |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.video} | ${r.gate} | ${r.faces} | ${(r.reusedShare * 100).toFixed(1)} % | ${(r.agreement * 100).toFixed(1)} % |`,
  );
console.log(
  "\nWhat any gate could reach (from the every-face run): the classifier's own label changes between consecutive frames of a face, one-frame flickers, and an oracle gate that knows the next label, K=4.\n",
);
console.log(
  '| video | faces | label changes / same-face links | one-frame flickers | oracle reuse at 100 % agreement, K=4 |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const b of bounds)
  console.log(
    `| ${b.video} | ${b.faces} | ${b.labelChanges} / ${b.links} | ${b.flickers} | ${(b.oracleReuse * 100).toFixed(1)} % |`,
  );
console.log(
  `\nchosen (most reuse with ≥ 98 % agreement on every video and rate${values.videos === undefined ? '' : ' run here'}): ${chosen?.label ?? 'none'}`,
);
if (speed.length) {
  console.log(
    `\n| video | faces/s, every face (YuNet + int8 ViT-B/16) | faces/s, gated (K=${speedGate!.maxFrames}, threshold ${speedGate!.threshold}${values.videos === undefined ? ', the chosen gate' : ', the default'}) | ratio |`,
  );
  console.log('| --- | ---: | ---: | ---: |');
  for (const video of VIDEOS) {
    const mine = speed.filter((s) => s.video === video.name);
    console.log(
      `| ${video.name} | ${range(mine.map((s) => s.every))} | ${range(mine.map((s) => s.gated))} | ${range(mine.map((s) => s.gated / s.every))} |`,
    );
  }
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
        rows,
        bounds,
        chosen: chosen?.g ?? null,
        speed,
      },
      null,
      2,
    ),
  );
