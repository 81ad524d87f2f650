// bench:persons — do persons match people? Generated interviews with known identities
// (bench/persons/interviews.ts: shot / reverse-shot, three-person cuts, a two-shot then singles;
// fixture faces over real scenery, obama and biden each from several photographs), analysed with
// the compact profile's defaults (identity descriptors from face-api's recognition net), tracked
// with the default tracker and scene cuts, then joined into persons at several distances in the
// same run. The baseline is tracks alone (every track its own person). Scored per kind: persons
// found vs present, pairwise identity precision and recall over tracks (bench/persons/score.ts).
//
//   npm run bench:persons -- [--variants N] [--frames-per-shot N] [--json FILE]
//
// Needs ../shared (FER_SHARED_DIR): the fixture photos.

import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { trackerOptions } from '../src/app/tracking.ts';
import { loadConfig } from '../src/config/index.ts';
import { frameSignature } from '../src/core/colour-signature.ts';
import type { FrameResult } from '../src/core/types.ts';
import { createProfileAnalyzer } from '../src/inference/profiles.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';
import { assignPersons, assignTracks, detectCuts } from '../src/results/index.ts';
import { identityDistance } from '../src/core/face-identity.ts';
import { loadFacePatches, sceneryScenes } from '../test/helpers/face-truth/scenes.ts';
import { INTERVIEW_KINDS, makeInterviews, type Interview } from './persons/interviews.ts';
import {
  addIdentityScores,
  NO_IDENTITY_SCORE,
  pairwise,
  scoreIdentities,
  trackMeans,
  type IdentityScore,
} from './persons/score.ts';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: '6' },
    'frames-per-shot': { type: 'string', default: '6' },
    json: { type: 'string' },
  },
});
const shared = path.resolve(process.env.FER_SHARED_DIR ?? '../shared');
const facesDir = path.join(shared, 'fixtures', 'faces');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-persons-'));
const config = loadConfig({ ...process.env, FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu' });

const interviews = await makeInterviews(await loadFacePatches(facesDir), await sceneryScenes(facesDir), {
  variants: Number(values.variants),
  framesPerShot: Number(values['frames-per-shot']),
});
const withIdentity = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
const analysed: Array<{ interview: Interview; frames: FrameResult[] }> = [];
let faces = 0;
const started = performance.now();
for (const interview of interviews) {
  const frames: FrameResult[] = [];
  for (const [index, frame] of interview.frames.entries()) {
    const analysis = await withIdentity.analyze(frame.image);
    faces += analysis.faces.length;
    frames.push({ index, timestamp: index / 2, faces: analysis.faces, signature: frameSignature(frame.image) });
  }
  analysed.push({ interview, frames });
}
const analysisSeconds = (performance.now() - started) / 1000;
await withIdentity.close();
// What identities cost: the same frames through the same profile without them, in the same run.
const tracksOnly = await createProfileAnalyzer(
  loadConfig({
    ...process.env,
    FER_MODELS_DIR: path.join(tmp, 'models'),
    FER_EXECUTION_PROVIDERS: 'cpu',
    FER_PERSONS: 'false',
  }),
  'compact',
  { prepareFaceApi: ensureFaceApiModels },
);
const baselineStarted = performance.now();
for (const interview of interviews) for (const frame of interview.frames) await tracksOnly.analyze(frame.image);
const baselineSeconds = (performance.now() - baselineStarted) / 1000;
await tracksOnly.close();
await rm(tmp, { recursive: true, force: true });

const tracking = trackerOptions(config);
// Tracks (cuts found as aggregation finds them) once per interview; the settings differ only in persons.
const tracked = analysed.map(({ interview, frames }) => {
  const cuts = detectCuts(frames, config.faces.cutThreshold);
  return {
    interview,
    frames: assignTracks(
      frames,
      { ...tracking, persons: undefined },
      { cutIndexes: new Set(cuts.map((c) => c.index)) },
    ),
  };
});
const defaultDistance = config.faces.personDistance;
const distances = [...new Set([0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, defaultDistance])].sort((a, b) => a - b);
const settings: Array<{ name: string; distance: number | null }> = [
  { name: 'tracks only (baseline: a person per track)', distance: null },
  ...distances.map((d) => ({ name: `persons ≤ ${d}${d === defaultDistance ? ' (default)' : ''}`, distance: d })),
];

const rows: Array<{ setting: string; kind: string; score: IdentityScore; exact: number; interviews: number }> = [];
for (const setting of settings) {
  for (const kind of [...INTERVIEW_KINDS, 'all'] as const) {
    let score = NO_IDENTITY_SCORE;
    let exact = 0;
    let count = 0;
    for (const { interview, frames } of tracked) {
      if (kind !== 'all' && interview.kind !== kind) continue;
      const result = setting.distance === null ? frames : assignPersons(frames, { maxDistance: setting.distance });
      const one = scoreIdentities(interview.frames, result);
      if (one.found === one.present && one.falsePairs === 0) exact++;
      count++;
      score = addIdentityScores(score, one);
    }
    rows.push({ setting: setting.name, kind, score, exact, interviews: count });
  }
}

// How far apart the tracks' mean descriptors are: one person's tracks vs different people's.
const same: number[] = [];
const different: number[] = [];
let closest = { distance: Infinity, pair: '' };
let farthest = { distance: 0, pair: '' };
for (const { interview, frames } of tracked) {
  const means = trackMeans(interview, frames);
  for (let i = 0; i < means.length; i++) {
    for (let j = i + 1; j < means.length; j++) {
      const d = identityDistance(means[i]!.mean, means[j]!.mean);
      const pair = `${means[i]!.person} / ${means[j]!.person} (${interview.kind} #${interview.variant})`;
      if (means[i]!.person === means[j]!.person) {
        same.push(d);
        if (d > farthest.distance) farthest = { distance: d, pair };
      } else {
        different.push(d);
        if (d < closest.distance) closest = { distance: d, pair };
      }
    }
  }
}
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
console.log(
  `bench:persons — ${interviews.length} generated interviews (${values.variants} per kind, ~${values['frames-per-shot']} sampled frames per shot), ${analysed.reduce((n, a) => n + a.frames.length, 0)} frames, ${faces} faces; compact profile with identities ${analysisSeconds.toFixed(1)} s, without ${baselineSeconds.toFixed(1)} s (×${(analysisSeconds / baselineSeconds).toFixed(2)}; ${((1000 * (analysisSeconds - baselineSeconds)) / faces).toFixed(1)} ms per face)`,
);
console.log(
  '| setting | interviews | persons found / present | exact | identity precision | identity recall | tracks |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const { precision, recall } = pairwise(r.score);
  console.log(
    `| ${r.setting} | ${r.kind} | ${r.score.found} / ${r.score.present} | ${r.exact} / ${r.interviews} | ${pct(precision)} | ${pct(recall)} | ${r.score.tracks} |`,
  );
}
console.log(
  `track-mean distances: one person ${same.length} pairs, median ${quantile(same, 0.5).toFixed(3)}, p95 ${quantile(same, 0.95).toFixed(3)}, max ${Math.max(...same).toFixed(3)}; different people ${different.length} pairs, min ${Math.min(...different).toFixed(3)}, p5 ${quantile(different, 0.05).toFixed(3)}, median ${quantile(different, 0.5).toFixed(3)}`,
);
console.log(
  `farthest one-person pair: ${farthest.pair} ${farthest.distance.toFixed(3)}; closest two-person pair: ${closest.pair} ${closest.distance.toFixed(3)}`,
);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        interviews: interviews.length,
        faces,
        analysisSeconds,
        baselineSeconds,
        rows: rows.map((r) => ({ ...r, ...pairwise(r.score) })),
      },
      null,
      2,
    ),
  );
