// Where ffmpeg and ffprobe come from: the system PATH when present (distribution builds, the
// Docker image), otherwise the binaries shipped by @ffmpeg-installer/@ffprobe-installer, so that
// `npm install` alone is enough. npm runs no install scripts here, so the shipped files may lack
// their exec bit: it is set on first use.

import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FerError } from '../core/errors.ts';
import { mediaToolEnvironment } from '../config/process-env.ts';

export interface MediaBinaries {
  readonly ffmpeg: string;
  readonly ffprobe: string;
}

let cached: MediaBinaries | undefined;

/** Resolves (once per process) the ffmpeg and ffprobe executables. FFMPEG_PATH / FFPROBE_PATH win when set. */
export function mediaBinaries(): MediaBinaries {
  if (cached === undefined) {
    const tools = mediaToolEnvironment(process.env, path.delimiter);
    cached = {
      ffmpeg: resolveBinary('ffmpeg', tools.ffmpeg, '@ffmpeg-installer/ffmpeg'),
      ffprobe: resolveBinary('ffprobe', tools.ffprobe, '@ffprobe-installer/ffprobe'),
    };
  }
  return cached;
}

function resolveBinary(name: string, explicit: string | undefined, npmPackage: string): string {
  if (explicit) return explicit;
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  let shipped: string;
  try {
    shipped = (createRequire(import.meta.url)(npmPackage) as { path: string }).path;
  } catch (error) {
    throw new FerError(
      'media_tool_missing',
      `${name} is neither on PATH nor installed through ${npmPackage}: ${(error as Error).message}`,
    );
  }
  ensureExecutable(shipped);
  return shipped;
}

function findOnPath(name: string): string | undefined {
  for (const dir of mediaToolEnvironment(process.env, path.delimiter).searchPath) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function ensureExecutable(file: string): void {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    chmodSync(file, statSync(file).mode | 0o755);
  }
}
