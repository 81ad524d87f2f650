// bench:cuts — how far apart scene cuts and ordinary frame-to-frame change are, for the cut
// threshold (FER_CUT_THRESHOLD) and the tracker's appearance check (FER_TRACK_APPEARANCE_DISTANCE).
// Sources: the demo video (face-api's six photos, a pan over each, a cut every 2 s), ffmpeg's
// generated sources without cuts (testsrc, testsrc2, mandelbrot, life), the GRID talking faces
// from ../shared (FER_SHARED_DIR) when present. For each: the cut scores at the known cuts and
// the largest score between frames of one shot; and, on the demo video with the compact profile,
// the colour distance between the same face in consecutive frames vs faces across a cut.
//
//   npm run bench:cuts -- [--json FILE]

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeDemoVideo } from '../src/cli/demo/make-video.ts';
import { loadConfig } from '../src/config/index.ts';
import { iou } from '../src/core/box.ts';
import { frameSignature } from '../src/core/colour-signature.ts';
import { appearanceDistance } from '../src/core/face-appearance.ts';
import type { FaceResult, FrameResult } from '../src/core/types.ts';
import { createProfileAnalyzer } from '../src/inference/profiles.ts';
import { extractFrames, mediaBinaries, probeVideo } from '../src/producer/index.ts';
import { cutScores } from '../src/results/index.ts';
import { ensureFaceApiModels } from '../src/models/faceapi/convert.ts';

const { values } = parseArgs({ options: { json: { type: 'string' } } });
const config = loadConfig({ ...process.env, FER_EXECUTION_PROVIDERS: 'cpu' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-cuts-'));
const shared = path.resolve(process.env.FER_SHARED_DIR ?? '../shared');

interface Source {
  readonly name: string;
  readonly file: string;
  readonly fps: number;
  /** Indexes of sampled frames that begin a new shot. */
  readonly cutAt: (index: number) => boolean;
}

function generated(name: string, lavfi: string): string {
  const file = path.join(dir, `${name}.mp4`);
  execFileSync(mediaBinaries().ffmpeg, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    lavfi,
    '-t',
    '8',
    '-c:v',
    'mpeg4',
    '-q:v',
    '5',
    file,
  ]);
  return file;
}

const demo = await makeDemoVideo({ out: path.join(dir, 'demo.mp4') });
const sources: Source[] = [
  ...[1, 2, 5].map((fps) => ({
    name: `demo (6 photos, a cut every 2 s)`,
    file: demo.file,
    fps,
    cutAt: (i: number) => i > 0 && i % (2 * fps) === 0,
  })),
  ...[
    'testsrc=size=320x240:rate=25',
    'testsrc2=size=320x240:rate=25',
    'mandelbrot=size=320x240:rate=25',
    'life=size=320x240:rate=25',
  ].flatMap((lavfi) => {
    const name = lavfi.split('=')[0]!;
    const file = generated(name, lavfi);
    return [1, 5].map((fps) => ({ name, file, fps, cutAt: () => false }));
  }),
  ...['grid_bbaf2n.mp4', 'grid_lwbsza.mpg']
    .map((f) => path.join(shared, 'fixtures', 'video', f))
    .filter((f) => existsSync(f))
    .map((file) => ({ name: path.basename(file), file, fps: 5, cutAt: () => false })),
];

async function frames(
  file: string,
  fps: number,
  analyze?: (f: { data: Buffer; width: number; height: number }) => Promise<readonly FaceResult[]>,
): Promise<FrameResult[]> {
  const out: FrameResult[] = [];
  for await (const f of extractFrames(file, await probeVideo(file, config.pipeline), {
    fps,
    maxSide: config.pipeline.frameMaxSide,
  })) {
    out.push({
      index: f.index,
      timestamp: f.timestamp,
      faces: analyze ? await analyze(f) : [],
      signature: frameSignature(f),
    });
  }
  return out;
}

const rows: Array<{ source: string; fps: number; cuts: number[]; withinShotMax: number }> = [];
for (const s of sources) {
  const scores = cutScores(await frames(s.file, s.fps));
  rows.push({
    source: s.name,
    fps: s.fps,
    cuts: scores.filter((x) => s.cutAt(x.index)).map((x) => x.score),
    withinShotMax: Math.max(0, ...scores.filter((x) => !s.cutAt(x.index)).map((x) => x.score)),
  });
}

// Appearance: the same face in consecutive frames (boxes overlapping, same shot) vs across a cut.
const analyzer = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
const appearance = { same: [] as number[], acrossCut: [] as number[] };
for (const fps of [2, 5]) {
  const analysed = await frames(demo.file, fps, async (f) => (await analyzer.analyze(f)).faces);
  for (let i = 1; i < analysed.length; i++) {
    const crossing = Math.floor(analysed[i]!.index / (2 * fps)) !== Math.floor(analysed[i - 1]!.index / (2 * fps));
    for (const face of analysed[i]!.faces) {
      for (const before of analysed[i - 1]!.faces) {
        if (iou(face.box, before.box) < config.faces.trackIou) continue;
        (crossing ? appearance.acrossCut : appearance.same).push(
          appearanceDistance(face.appearance!, before.appearance!),
        );
      }
    }
  }
}
await analyzer.close();
rmSync(dir, { recursive: true, force: true });

const f3 = (v: number) => v.toFixed(3);
console.log(`\n| source | fps | scores at the cuts | largest score within a shot |\n| --- | ---: | --- | ---: |`);
for (const r of rows)
  console.log(
    `| ${r.source} | ${r.fps} | ${r.cuts.length ? r.cuts.map(f3).join(', ') : '—'} | ${f3(r.withinShotMax)} |`,
  );
const sorted = [...appearance.same].sort((a, b) => a - b);
console.log(
  `\nface appearance distance, same face in consecutive frames (${sorted.length} pairs): median ${f3(sorted[Math.floor(sorted.length / 2)] ?? 0)}, p95 ${f3(sorted[Math.floor(sorted.length * 0.95)] ?? 0)}, max ${f3(sorted.at(-1) ?? 0)}`,
);
console.log(
  `face appearance distance, overlapping faces across a cut (${appearance.acrossCut.length} pairs): ${appearance.acrossCut.map(f3).join(', ')}`,
);
if (values.json)
  writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), rows, appearance }, null, 2));
