// What ffmpeg and ffprobe may open. A file is named by the user, but its content decides which
// demuxer ffmpeg picks: an HLS playlist or an ffconcat script named `.mp4` would make ffmpeg read
// other files (or URLs) it names. Both tools therefore run with input protocols restricted to
// local files and with an explicit allowlist of real video containers (ffmpeg's
// protocol_whitelist / format_whitelist): anything else is refused before its header is read.
// The file is passed as `file:PATH`, so a name such as `concat:a|b` or `http:…` is never a URL.

import { open } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../core/errors.ts';

/** Input options for ffmpeg and ffprobe (before the input). */
export function safeInputOptions(allowedContainers: readonly string[]): string[] {
  return ['-protocol_whitelist', 'file', '-format_whitelist', allowedContainers.join(',')];
}

/** The input argument: always the file protocol, whatever the name looks like. */
export function safeInput(file: string): string {
  return `file:${path.resolve(file)}`;
}

/**
 * A user-facing message from ffmpeg/ffprobe output: the server's path (and `file:` URL) replaced
 * by the video's display name, so errors never reveal where files live.
 */
export function withoutPaths(text: string, file: string, displayName: string): string {
  const absolute = path.resolve(file);
  return text
    .split(`file:${absolute}`)
    .join(displayName)
    .split(absolute)
    .join(displayName)
    .split(file)
    .join(displayName);
}

/** FerError `unsupported_container` when ffmpeg refused the file's demuxer (not on the allowlist); else undefined. */
export function containerRefusal(stderr: string, allowedContainers: readonly string[]): FerError | undefined {
  const match = /\[([\w,]+) @ [^\]]*\] Format not on whitelist/.exec(stderr);
  if (!match) return undefined;
  const kind = match[1]!;
  const what: Record<string, string> = {
    hls: 'an HLS playlist',
    concat: 'an ffconcat script',
    image2: 'an image sequence pattern',
    ffmetadata: 'an ffmetadata file',
    tty: 'a text file',
  };
  return new FerError(
    'unsupported_container',
    `the file is ${what[kind] ?? `in the "${kind}" format`}, not a video container; accepted containers: ${allowedContainers.join(', ')} (FER_ALLOWED_CONTAINERS)`,
  );
}

/** Text formats that make ffmpeg open other files or URLs, by how they begin. */
const SCRIPT_SIGNATURES: ReadonlyArray<[RegExp, string]> = [
  [/^(\xEF\xBB\xBF)?#EXTM3U/, 'an HLS playlist'],
  [/^(\xEF\xBB\xBF)?\s*ffconcat version/, 'an ffconcat script'],
  [/^(\xEF\xBB\xBF)?\s*(<\?xml|<MPD)/, 'an XML document (e.g. a DASH manifest)'],
  [/^;FFMETADATA/, 'an ffmetadata file'],
  [/^\[playlist\]/i, 'a PLS playlist'],
];

/**
 * Refuses playlists and scripts by their first bytes, whatever their name and whichever demuxer
 * ffmpeg would pick (a playlist named .mp4 may be tried as mp4 and fail as "invalid", or be
 * opened as HLS where the allowlist then refuses it): the user gets the same clear answer.
 */
export async function refuseScripts(file: string, allowedContainers: readonly string[]): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    const head = buffer.toString('latin1', 0, bytesRead);
    const match = SCRIPT_SIGNATURES.find(([pattern]) => pattern.test(head));
    if (match)
      throw new FerError(
        'unsupported_container',
        `the file is ${match[1]}, not a video container; accepted containers: ${allowedContainers.join(', ')} (FER_ALLOWED_CONTAINERS)`,
      );
  } finally {
    await handle.close();
  }
}
