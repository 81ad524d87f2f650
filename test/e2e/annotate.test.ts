// Results to watch, end to end with real ffmpeg: `analyze --annotate` on a real talking-face video
// writes an annotated MP4 with the source's duration, frame rate and size, whose pixels show the
// face's box where the result says the face is (the box outline differs from the source, the
// face inside it does not); the per-track CSV and the PNG chart beside the JSON; and `results ID
// --format mp4|tracks-csv` gives the same from Redis afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { mediaBinaries } from '../../src/producer/index.ts';
import { TRACK_CSV_COLUMNS, type VideoResult } from '../../src/results/index.ts';
import { bin, repoRoot } from '../helpers/cli-processes.ts';
import { csvRecords } from '../helpers/csv.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-annotate-'));
const env = {
  ...process.env,
  REDIS_URL: redisUrl(),
  FER_REDIS_PREFIX: prefix,
  FER_EXECUTION_PROVIDERS: 'cpu',
  LOG_LEVEL: 'warn',
  FER_MODELS_DIR: path.join(dir, 'models'),
};
const cli = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: 180_000 });

function probe(file: string): { width: number; height: number; rate: string; frames: number; duration: number } {
  const out = JSON.parse(
    execFileSync(
      mediaBinaries().ffprobe,
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-count_frames',
        '-show_entries',
        'stream=width,height,r_frame_rate,nb_read_frames:format=duration',
        '-of',
        'json',
        file,
      ],
      { encoding: 'utf8' },
    ),
  );
  const s = out.streams[0];
  return {
    width: s.width,
    height: s.height,
    rate: s.r_frame_rate,
    frames: Number(s.nb_read_frames),
    duration: Number(out.format.duration),
  };
}

/** One frame at `seconds`, raw RGB. */
function frameAt(file: string, seconds: number, width: number, height: number): Uint8Array {
  const raw = execFileSync(
    mediaBinaries().ffmpeg,
    ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 24 },
  );
  expect(raw.length).toBe(width * height * 3);
  return new Uint8Array(raw);
}

describeWithShared('annotated video, per-track CSV and PNG chart', () => {
  afterAll(async () => {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('analyze --annotate: same duration, frame rate and size as the source; the box drawn where the face is', () => {
    const source = sharedPath('fixtures', 'video', 'grid_bbaf2n.mp4');
    const out = path.join(dir, 'out');
    const run = cli(['analyze', source, '--fps', '5', '--annotate', '--out', out]);
    expect(run.status, run.stderr + run.stdout).toBe(0);
    const annotated = path.join(out, 'grid_bbaf2n.annotated.mp4');
    const result = JSON.parse(readFileSync(path.join(out, 'grid_bbaf2n.json'), 'utf8')) as VideoResult;

    const [a, s] = [probe(annotated), probe(source)];
    expect({ width: a.width, height: a.height, rate: a.rate, frames: a.frames }).toEqual({
      width: s.width,
      height: s.height,
      rate: s.rate,
      frames: s.frames,
    });
    expect(a.duration).toBeCloseTo(s.duration, 1);

    // At a sampled moment (and between samples, where the label is held): the outline differs from
    // the source by far more than compression does, the face inside the box hardly at all.
    for (const t of [1.2, 1.3]) {
      const sample = [...result.frames].reverse().find((f) => f.timestamp <= t)!;
      const box = sample.faces[0]!.box;
      const [before, after] = [frameAt(source, t, s.width, s.height), frameAt(annotated, t, s.width, s.height)];
      const diff = (x: number, y: number) => {
        const i = (Math.round(y) * s.width + Math.round(x)) * 3;
        return (
          (Math.abs(before[i]! - after[i]!) +
            Math.abs(before[i + 1]! - after[i + 1]!) +
            Math.abs(before[i + 2]! - after[i + 2]!)) /
          3
        );
      };
      const mean = (points: Array<[number, number]>) =>
        points.reduce((sum, [x, y]) => sum + diff(x, y), 0) / points.length;
      const steps = Array.from({ length: 20 }, (_, i) => (i + 0.5) / 20);
      const outline = [
        ...steps.map((f): [number, number] => [box.x + 0.5, box.y + f * box.height]),
        ...steps.map((f): [number, number] => [box.x + box.width - 1.5, box.y + f * box.height]),
        ...steps.map((f): [number, number] => [box.x + f * box.width, box.y + box.height - 1.5]),
      ];
      const inside = steps.flatMap((fx) =>
        [0.35, 0.5, 0.65].map((fy): [number, number] => [
          box.x + box.width * (0.25 + fx * 0.5),
          box.y + box.height * fy,
        ]),
      );
      expect(mean(outline), `outline at ${t}s`).toBeGreaterThan(30);
      expect(mean(inside), `inside at ${t}s`).toBeLessThan(8);
    }

    // Beside the JSON: one row per track, and the chart as a PNG.
    const tracks = csvRecords(readFileSync(path.join(out, 'grid_bbaf2n.tracks.csv'), 'utf8'));
    expect(tracks).toHaveLength(result.tracks.length);
    expect(Object.keys(tracks[0]!)).toEqual([...TRACK_CSV_COLUMNS, ...result.labels.map((l) => `p_${l}`)]);
    expect(Number(tracks[0]!.frames)).toBe(result.tracks[0]!.frames);
    expect(tracks[0]!.dominant_label).toBe(result.tracks[0]!.dominant!.label);
    expect(readFileSync(path.join(out, 'grid_bbaf2n.png')).subarray(1, 4).toString()).toBe('PNG');

    // Later, from Redis: results ID --format mp4 / tracks-csv.
    const mp4 = path.join(dir, 'again.mp4');
    const again = cli(['results', result.videoId, '--format', 'mp4', '--out', mp4]);
    expect(again.status, again.stderr).toBe(0);
    expect(probe(mp4).frames).toBe(s.frames);
    const csv = cli(['results', result.videoId, '--format', 'tracks-csv']);
    expect(csv.stdout).toBe(readFileSync(path.join(out, 'grid_bbaf2n.tracks.csv'), 'utf8'));
    expect(cli(['results', result.videoId, '--format', 'mp4']).stderr).toContain('give --out FILE.mp4');
    expect(existsSync(annotated)).toBe(true);
  }, 180_000);
});
