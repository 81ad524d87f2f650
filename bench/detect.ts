// bench:detect — how often each face detector misses a face or invents one, against ground truth.
// Frames (test/helpers/face-truth/scenes.ts, all generated, nothing downloaded): ffmpeg's
// generated sources and text, real scenery from the fixture photos where no face is (the no-face
// frames); the same frames with fixture faces pasted at known boxes, 20–240 px wide; the fixture
// photos at frame size with their hand-checked boxes. Per detector and threshold: recall and
// precision at IoU 0.5 (recall by face width, and at IoU 0.3), false faces per 100 no-face
// frames, CPU ms per frame; then the rule for defaults: best recall at ≤ 1 false face per 100
// no-face frames, per profile (compact: the offline detectors only).
//
//   npm run bench:detect -- [--json FILE] [--only LABEL-SUBSTRING] [--seed N]
//
// Needs ../shared (FER_SHARED_DIR): the photos, UltraFace and YuNet.

import { mkdtemp, rm } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { mediaBinaries } from '../src/producer/index.ts';
import {
  compositeScenes,
  generatedNoFaceScenes,
  photoScenes,
  sceneryScenes,
  type Scene,
} from '../test/helpers/face-truth/scenes.ts';
import { CLUTTER_DIR, CLUTTER_FETCH, clutterAvailable, clutterScenes } from '../test/helpers/face-truth/clutter.ts';
import { BENCH_DETECTORS, installBenchModels, type BenchDetector } from './detect/detectors.ts';
import {
  chooseByRule,
  DEFAULT_RULE,
  scoreThreshold,
  SIZE_BUCKETS,
  type Candidate,
  type SceneDetections,
  type ThresholdRow,
} from './detect/score.ts';

const { values } = parseArgs({
  options: { json: { type: 'string' }, only: { type: 'string' }, seed: { type: 'string', default: '1' } },
});
const shared = path.resolve(process.env.FER_SHARED_DIR ?? '../shared');
const facesDir = path.join(shared, 'fixtures', 'faces');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-detect-'));
const config = loadConfig({ ...process.env, FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu' });
await installBenchModels(path.join(shared, 'models'), config.modelsDir);

if (!clutterAvailable()) {
  console.error(
    `the clutter pictures are not in ${CLUTTER_DIR}: run ${CLUTTER_FETCH} (Debian packages) or set FER_CLUTTER_DIR`,
  );
  process.exit(1);
}
const scenery = await sceneryScenes(facesDir);
const noFace = [...generatedNoFaceScenes(mediaBinaries().ffmpeg), ...scenery];
const clutter = await clutterScenes(scenery);
const backgrounds = [...noFace, ...clutter];
const scenes: Scene[] = [
  ...backgrounds,
  ...(await compositeScenes(backgrounds, facesDir, Number(values.seed))),
  ...(await photoScenes(facesDir)),
];
const count = (kind: Scene['kind']) => scenes.filter((s) => s.kind === kind).length;
const trueFaces = scenes.reduce((n, s) => n + s.faces.filter((f) => !f.truncated).length, 0);
console.error(
  `${count('no-face')} no-face frames, ${count('clutter')} clutter frames, ${count('composite')} composites, ${count('photo')} photos; ${trueFaces} true faces`,
);

interface DetectorResult {
  readonly label: string;
  readonly reference: number;
  readonly cpuMsPerFrame: number;
  readonly rows: readonly ThresholdRow[];
}

/** Detects every scene, 8 at a time (as a worker with frames in flight does); CPU time of the whole process. */
async function run(bench: BenchDetector): Promise<DetectorResult> {
  const floor = Math.min(...bench.thresholds);
  const detector = await bench.open(config, floor);
  try {
    await detector.detect(scenes[0]!.image); // warm-up: first-run allocation is not per-frame cost
    const results: SceneDetections[] = [];
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < scenes.length; i += 8) {
      const group = scenes.slice(i, i + 8);
      const found = await Promise.all(group.map((s) => detector.detect(s.image)));
      group.forEach((scene, j) => results.push({ scene, detections: found[j]! }));
    }
    const used = process.cpuUsage(cpu);
    console.error(`${bench.label}: ${((performance.now() - start) / scenes.length).toFixed(1)} ms/frame wall`);
    return {
      label: bench.label,
      reference: bench.reference,
      cpuMsPerFrame: (used.user + used.system) / 1000 / scenes.length,
      rows: bench.thresholds.map((t) => scoreThreshold(results, t)),
    };
  } finally {
    await detector.close();
  }
}

const results: DetectorResult[] = [];
for (const bench of BENCH_DETECTORS) {
  if (values.only && !bench.label.includes(values.only)) continue;
  results.push(await run(bench));
}
await rm(tmp, { recursive: true, force: true });

const pct = (v: number) => `${(100 * v).toFixed(1)}`;
console.log(
  `\n${count('no-face')} no-face frames (generated sources, text, scenery), ${count('clutter')} clutter frames (paintings, photographs, animals, coins, posters, cloth), ${count('composite')} composites and ${count('photo')} photos with ${trueFaces} faces; IoU 0.5 unless said\n`,
);
console.log(
  `| detector | threshold | recall % | ${SIZE_BUCKETS.map((b) => `${b.label} %`).join(' | ')} | recall IoU 0.3 % | precision % | false faces / 100 no-face frames | false faces / 100 clutter frames | photo faces | CPU ms / frame |`,
);
console.log(
  `| --- | ---: | ---: | ${SIZE_BUCKETS.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: |`,
);
for (const r of results) {
  for (const row of r.rows) {
    const mark = row.threshold === r.reference ? ' (ref.)' : '';
    console.log(
      `| ${r.label} | ${row.threshold}${mark} | ${pct(row.recall)} | ${row.recallBySize.map(pct).join(' | ')} | ${pct(row.recallLoose)} | ${pct(row.precision)} | ${row.falsePer100.toFixed(1)} | ${row.clutterFalsePer100.toFixed(1)} | ${row.photoFaces.found}/${row.photoFaces.total} | ${r.cpuMsPerFrame.toFixed(1)} |`,
    );
  }
}

// Each detector's default threshold, and each profile's default detector, by the rule (score.ts).
const pct1 = (c: Candidate) =>
  `recall ${pct(c.row.recall)} %, precision ${pct(c.row.precision)} %, ${c.row.falsePer100.toFixed(1)} false / 100 no-face frames, ${c.row.clutterFalsePer100.toFixed(1)} / 100 clutter frames, ${c.cpuMsPerFrame.toFixed(1)} CPU ms`;
const perDetector = results.map((r) => ({
  label: r.label,
  choice: chooseByRule(r.rows.map((row) => ({ label: r.label, row, cpuMsPerFrame: r.cpuMsPerFrame }))),
}));
console.log(
  `\neach detector's threshold by the rule (≤ ${DEFAULT_RULE.maxFalsePer100} false face / 100 no-face frames and / 100 clutter frames, precision ≥ ${100 * DEFAULT_RULE.minPrecision} %, best recall):`,
);
for (const { label, choice } of perDetector)
  console.log(`  ${label}: ${choice ? `${choice.row.threshold} — ${pct1(choice)}` : 'none meets the bars'}`);
// The compact profile must run offline (npm alone): face-api's and BlazeFace's models.
const offline = (label: string) => label.startsWith('faceapi') || label.startsWith('blazeface');
const chosen = perDetector.flatMap((d) => (d.choice ? [d.choice] : []));
const choices = {
  compact: chooseByRule(
    chosen.filter((c) => offline(c.label)),
    0.01,
  ),
  vit: chooseByRule(chosen, 0.01),
};
console.log("\neach profile's detector by the rule (recall within 1 point counts as a tie: the cheaper wins):");
for (const [profile, c] of Object.entries(choices))
  console.log(`  ${profile}: ${c ? `${c.label} at ${c.row.threshold} — ${pct1(c)}` : 'none meets the bars'}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
        scenes: {
          noFace: count('no-face'),
          clutter: count('clutter'),
          composites: count('composite'),
          photos: count('photo'),
          faces: trueFaces,
        },
        results,
        perDetector,
        choices,
      },
      null,
      2,
    ),
  );
