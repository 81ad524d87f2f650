// Writes an annotated copy of a video: the source re-encoded (H.264 + AAC in MP4, at the source's
// frame rate and displayed orientation) with each face's box, track id and top expression drawn
// from its result (src/results/annotation.ts renders the overlay as an ASS script for libass).
// The source is opened as the producers open it: local files only, real containers only.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FerError } from '../core/errors.ts';
import { annotationSubtitles } from '../results/annotation.ts';
import type { VideoResult } from '../results/types.ts';
import { mediaBinaries } from './binaries.ts';
import { safeInput, safeInputOptions, withoutPaths } from './media-safety.ts';

const run = promisify(execFile);

export interface AnnotateOptions {
  readonly source: string;
  readonly result: VideoResult;
  readonly out: string;
  readonly allowedContainers: readonly string[];
  /** Give up after this long (default 10 minutes): re-encoding is the slow part. */
  readonly timeoutMs?: number;
}

export async function writeAnnotatedVideo(options: AnnotateOptions): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-annotate-'));
  try {
    // The filter argument is parsed by ffmpeg: a path of our own (no ':' or quotes) keeps it simple.
    const script = path.join(dir, 'overlay.ass');
    await writeFile(script, annotationSubtitles(options.result));
    const args = [
      '-v',
      'error',
      '-nostdin',
      '-y',
      ...safeInputOptions(options.allowedContainers),
      '-i',
      safeInput(options.source),
      '-map',
      '0:v:0',
      '-map',
      '0:a:0?',
      '-vf',
      `ass=filename=${script}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '20',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-movflags',
      '+faststart',
      path.resolve(options.out),
    ];
    await run(mediaBinaries().ffmpeg, args, { timeout: options.timeoutMs ?? 600_000, maxBuffer: 1 << 22 }).catch(
      (error: Error & { stderr?: string; killed?: boolean }) => {
        const name = path.basename(options.source);
        const reason = error.killed
          ? 'timed out'
          : withoutPaths((error.stderr ?? error.message).trim().split('\n').slice(-3).join(' '), options.source, name);
        throw new FerError('annotate_failed', `cannot write the annotated video of ${name}: ${reason}`);
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
