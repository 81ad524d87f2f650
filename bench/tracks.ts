// bench:tracks — are tracks people? Generated sequences with known identities
// (bench/tracks/sequences.ts: one face moving, two apart, two crossing, a cut to another person at
// the same place, another person at the same place without a cut, a face leaving and coming back;
// several variants each), detected with the compact profile's defaults, then tracked by the
// aggregation's tracker under several settings in the same run: IoU only (the baseline: no cuts,
// no appearance check), + scene cuts, + cuts + appearance check at several distances (the default
// FER_TRACK_APPEARANCE_DISTANCE among them). Scored with ID switches, fragmentations, merges and
// IDF1 (bench/tracks/score.ts); scene cuts found against the true ones.
//
//   npm run bench:tracks -- [--variants N] [--json FILE]
//
// Needs ../shared (FER_SHARED_DIR): the fixture photos.

import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { iou } from '../src/core/box.ts';
import { frameSignature } from '../src/core/colour-signature.ts';
import { appearanceDistance } from '../src/core/face-appearance.ts';
import type { Box, FrameResult } from '../src/core/types.ts';
import { createProfileAnalyzer } from '../src/inference/profiles.ts';
import { mediaBinaries } from '../src/producer/index.ts';
import { assignTracks, detectCuts, type TrackerOptions } from '../src/results/index.ts';
import { matchFaces } from '../test/helpers/face-truth/match.ts';
import { generatedNoFaceScenes, loadFacePatches, sceneryScenes } from '../test/helpers/face-truth/scenes.ts';
import { makeSequences, SEQUENCE_KINDS, type Sequence } from './tracks/sequences.ts';
import { addScores, idf1, NO_SCORE, scoreTracks, type TrackScore } from './tracks/score.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';

const { values } = parseArgs({ options: { variants: { type: 'string', default: '6' }, json: { type: 'string' } } });
const shared = path.resolve(process.env.FER_SHARED_DIR ?? '../shared');
const facesDir = path.join(shared, 'fixtures', 'faces');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-bench-tracks-'));
const config = loadConfig({ ...process.env, FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu' });

const backgrounds = [
  ...(await sceneryScenes(facesDir)),
  ...generatedNoFaceScenes(mediaBinaries().ffmpeg).filter((s) =>
    /^(gradients|smptebars|life|text-dark|mandelbrot)#0$/.test(s.name),
  ),
];
const sequences = await makeSequences(await loadFacePatches(facesDir), backgrounds, Number(values.variants));
const analyzer = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
const analysed: Array<{ sequence: Sequence; frames: FrameResult[] }> = [];
for (const sequence of sequences) {
  const frames: FrameResult[] = [];
  for (const [index, frame] of sequence.frames.entries()) {
    frames.push({
      index,
      timestamp: index / 2,
      faces: (await analyzer.analyze(frame.image)).faces,
      signature: frameSignature(frame.image),
    });
  }
  analysed.push({ sequence, frames });
}
await analyzer.close();
await rm(tmp, { recursive: true, force: true });

const { trackIou, trackMaxGap, trackAppearanceDistance, trackReidentifyFrames, cutThreshold } = config.faces;
const base: TrackerOptions = { iouThreshold: trackIou, maxGap: trackMaxGap };
const isDefault = (d: number, r: number) => d === trackAppearanceDistance && r === trackReidentifyFrames;
// Baselines first (the tracker before this benchmark: IoU on the last box only, then cuts, then the
// old colour-only check at 0.45), then the current tracker (motion + cuts + appearance) across its knobs.
const settings: Array<{ name: string; options: TrackerOptions; cuts: boolean; colourOnly?: boolean }> = [
  { name: 'IoU on last box (baseline)', options: { ...base, predictMotion: false }, cuts: false },
  { name: 'baseline + scene cuts', options: { ...base, predictMotion: false }, cuts: true },
  {
    name: 'baseline + cuts + colour ≤ 0.45 (previous default)',
    options: { ...base, predictMotion: false, maxAppearanceDistance: 0.45 },
    cuts: true,
    colourOnly: true,
  },
  { name: 'motion + cuts', options: base, cuts: true },
  ...[0.35, trackAppearanceDistance, 0.65].flatMap((d) =>
    [0, trackReidentifyFrames].map((r) => ({
      name: `motion + cuts + appearance ≤ ${d}, re-identify ${r}${isDefault(d, r) ? ' (default)' : ''}`,
      options: { ...base, maxAppearanceDistance: d, reidentifyWithin: r },
      cuts: true,
    })),
  ),
];

const table: Array<{ setting: string; kind: string; score: TrackScore }> = [];
for (const setting of settings) {
  for (const kind of [...SEQUENCE_KINDS, 'all'] as const) {
    let score = NO_SCORE;
    for (const { sequence, frames } of analysed) {
      if (kind !== 'all' && sequence.kind !== kind) continue;
      const cutIndexes = setting.cuts
        ? new Set(detectCuts(frames, cutThreshold).map((c) => c.index))
        : new Set<number>();
      // The previous appearance was the colour histogram alone: the first 64 values of today's.
      const input = setting.colourOnly
        ? frames.map((f) => ({
            ...f,
            faces: f.faces.map((face) => ({
              ...face,
              ...(face.appearance ? { appearance: face.appearance.slice(0, 64) } : {}),
            })),
          }))
        : frames;
      const tracked = assignTracks(input, setting.options, { cutIndexes });
      score = addScores(
        score,
        scoreTracks(tracked.map((f, i) => ({ truth: sequence.frames[i]!.truth, faces: f.faces }))),
      );
    }
    table.push({ setting: setting.name, kind, score });
  }
}

// Scene cuts found vs the true ones.
let trueCuts = 0;
let found = 0;
let falseCuts = 0;
for (const { sequence, frames } of analysed) {
  const detected = new Set(detectCuts(frames, cutThreshold).map((c) => c.index));
  trueCuts += sequence.cuts.length;
  found += sequence.cuts.filter((c) => detected.has(c)).length;
  falseCuts += [...detected].filter((c) => !sequence.cuts.includes(c)).length;
}

// The appearance threshold's evidence: distances between overlapping faces of consecutive frames,
// the same person vs two different people (the swaps at the same place).
const distances = { same: [] as number[], different: [] as number[] };
for (const { sequence, frames } of analysed) {
  const personOf = (i: number, box: Box) => {
    const m = matchFaces(
      [{ box, score: 1 }],
      sequence.frames[i]!.truth.map((t) => ({ box: t.box, truncated: false })),
    );
    return m.pairs[0] ? sequence.frames[i]!.truth[m.pairs[0][1]]!.person : undefined;
  };
  for (let i = 1; i < frames.length; i++) {
    for (const face of frames[i]!.faces) {
      for (const before of frames[i - 1]!.faces) {
        if (iou(face.box, before.box) < trackIou || !face.appearance || !before.appearance) continue;
        const [a, b] = [personOf(i, face.box), personOf(i - 1, before.box)];
        if (a === undefined || b === undefined) continue;
        (a === b ? distances.same : distances.different).push(appearanceDistance(face.appearance, before.appearance));
      }
    }
  }
}
const quantile = (xs: number[], q: number) =>
  [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

const f3 = (v: number) => v.toFixed(3);
console.log(
  `\n${sequences.length} sequences (${SEQUENCE_KINDS.length} kinds × ${values.variants}), ${analysed.reduce((n, a) => n + a.frames.length, 0)} frames; detector ${analyzer.info.detector}; tracker IoU ${trackIou}, gap ${trackMaxGap}, cut threshold ${cutThreshold}`,
);
console.log(`scene cuts: ${found} of ${trueCuts} true cuts found, ${falseCuts} false cuts`);
console.log(
  `appearance distance of overlapping faces in consecutive frames: same person (${distances.same.length}) median ${f3(quantile(distances.same, 0.5))}, p95 ${f3(quantile(distances.same, 0.95))}, max ${f3(quantile(distances.same, 1))}; different people (${distances.different.length}) min ${f3(quantile(distances.different, 0))}, median ${f3(quantile(distances.different, 0.5))}\n`,
);
console.log('| tracker | sequences | IDF1 | ID switches | fragmentations | merges | ids per person | faces matched |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { setting, kind, score } of table) {
  console.log(
    `| ${setting} | ${kind} | ${f3(idf1(score))} | ${score.idSwitches} | ${score.fragmentations} | ${score.merges} | ${score.idsPerPerson.toFixed(2)} | ${score.matched}/${score.trueBoxes} |`,
  );
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
        cuts: { trueCuts, found, falseCuts },
        distances,
        table,
      },
      null,
      2,
    ),
  );
