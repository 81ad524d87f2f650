// The demo's input: a short video made from the sample photos that @vladmandic/face-api ships
// (demo/sample1..6.jpg, several faces each), so the demo needs nothing beyond `npm install`.
// Each photo is shown for `secondsPerPhoto` while the view pans slowly from its left to its right.

import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../../core/errors.ts';
import { faceApiSamplePhotos } from '../../models/faceapi/sample-photos.ts';
import { mediaBinaries } from '../../producer/index.ts';

export interface DemoVideoOptions {
  readonly out: string;
  readonly secondsPerPhoto?: number;
  readonly fps?: number;
  /** Output frame size (the pan window); photos are scaled to this height. */
  readonly width?: number;
  readonly height?: number;
}

/** Writes the demo video (H.264 MP4, no audio) and returns its path and length in seconds. */
export async function makeDemoVideo(
  options: DemoVideoOptions,
): Promise<{ file: string; seconds: number; photos: number }> {
  const seconds = options.secondsPerPhoto ?? 2;
  const fps = options.fps ?? 10;
  const width = options.width ?? 960;
  const height = options.height ?? 720;
  const photos = faceApiSamplePhotos();
  await mkdir(path.dirname(options.out), { recursive: true });
  const inputs = photos.flatMap((p) => ['-loop', '1', '-framerate', String(fps), '-t', String(seconds), '-i', p]);
  // Scale to the output height (at least the output width), then move a width×height window
  // across the photo over its `seconds`.
  const chains = photos.map(
    (_, i) =>
      `[${i}:v]scale=w='max(${width},-2)':h=${height}:force_original_aspect_ratio=increase,` +
      `crop=${width}:${height}:x='(iw-ow)*min(t/${seconds},1)':y='(ih-oh)/2',setsar=1,fps=${fps},format=yuv420p[v${i}]`,
  );
  const filter = `${chains.join(';')};${photos.map((_, i) => `[v${i}]`).join('')}concat=n=${photos.length}:v=1:a=0[out]`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...inputs,
    '-filter_complex',
    filter,
    '-map',
    '[out]',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    '-movflags',
    '+faststart',
    options.out,
  ];
  await run(mediaBinaries().ffmpeg, args);
  return { file: options.out, seconds: seconds * photos.length, photos: photos.length };
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error) => reject(new FerError('media_tool_failed', `cannot run ${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new FerError(
            'media_tool_failed',
            `ffmpeg could not make the demo video (exit code ${code}): ${stderr.trim().slice(-500)}`,
          ),
        );
    });
  });
}
