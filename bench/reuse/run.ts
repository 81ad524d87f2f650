// One `fer-stream analyze` of one video for bench:reuse, its faces flattened.

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Box } from '../../src/core/types.ts';
import { BENCH_DIR, REPO } from '../pipeline/setup.ts';

export interface FaceRow {
  readonly frame: number;
  readonly box: Box;
  readonly label: string;
  readonly reused: boolean;
}

export async function analyzeResults(video: string, args: readonly string[], env: Record<string, string>): Promise<{ faces: FaceRow[]; seconds: number }> {
  const out = path.join(BENCH_DIR, `reuse-out-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fer-stream.js'), 'analyze', video, '--out', out, ...args], {
    env: { ...process.env, FER_REDIS_PREFIX: `bench-reuse-${process.pid}`, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`analyze exited ${code}: ${stderr.slice(-2000)}`);
  const result = JSON.parse(readFileSync(path.join(out, `${path.basename(video, path.extname(video))}.json`), 'utf8')) as {
    timings: { processingMs: number };
    frames: Array<{ index: number; faces: Array<{ box: Box; label: string; reused?: boolean }> }>;
  };
  rmSync(out, { recursive: true, force: true });
  return {
    faces: result.frames.flatMap((f) => f.faces.map((face) => ({ frame: f.index, box: face.box, label: face.label, reused: face.reused === true }))),
    seconds: result.timings.processingMs / 1000,
  };
}
