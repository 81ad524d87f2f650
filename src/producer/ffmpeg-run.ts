// One ffmpeg process that writes raw frames to its stdout: started without a shell, its stderr
// read line by line (damage counted as it comes, the last lines kept to say why it failed), and
// its exit turned into a specific FerError. The full decode (frames.ts) runs one per video or
// segment; sparse sampling by seeking (seek-decoding.ts) runs one per sample.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { FerError } from '../core/errors.ts';
import { mediaBinaries } from './binaries.ts';
import { DecodeDamageCounter } from './decode-damage.ts';
import { containerRefusal, withoutPaths } from './media-safety.ts';

export interface FfmpegRun {
  /** rgb24 (or whatever the arguments ask for) as ffmpeg writes it. */
  readonly stdout: Readable;
  /** After the output has ended: throws the decoding failure, if ffmpeg reported one. */
  finish(): Promise<void>;
  /** Stops ffmpeg; finish() then returns without an error. */
  kill(): void;
}

export interface FfmpegRunOptions {
  /** The video decoded (its path is kept out of error messages). */
  readonly file: string;
  /** Demuxers ffmpeg may use: a refusal names the container instead of ffmpeg's generic error. */
  readonly allowedContainers: readonly string[];
  /** Told of each decoding error ffmpeg reports in the stream (damaged data concealed or dropped). */
  readonly onDecodeError?: (line: string) => void;
}

/** Starts ffmpeg with `args` (input and output included). */
export function startFfmpeg(args: readonly string[], options: FfmpegRunOptions): FfmpegRun {
  const proc: ChildProcessByStdio<null, Readable, Readable> = spawn(mediaBinaries().ffmpeg, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let spawnError: Error | undefined;
  proc.on('error', (error) => (spawnError = error));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  // ffmpeg's messages, line by line: decode errors are counted as they come; the last lines say why it failed.
  const lastLines: string[] = [];
  const damage = new DecodeDamageCounter();
  let partial = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const added = damage.add(line);
      for (let i = 0; i < added; i++) options.onDecodeError?.(line);
      lastLines.push(line);
      if (lastLines.length > 20) lastLines.shift();
    }
  });
  let killed = false;
  return {
    stdout: proc.stdout,
    async finish() {
      const { code, signal } = await exited;
      if (partial) lastLines.push(partial);
      if (spawnError) throw new FerError('media_tool_missing', `ffmpeg could not be started: ${spawnError.message}`);
      if (killed || code === 0) return;
      const stderr = lastLines.join('\n');
      const refused = containerRefusal(stderr, options.allowedContainers);
      // ffmpeg's own last line (never the command line: it holds the server's path).
      const lastLine = lastLines.filter((l) => l.trim()).pop() ?? `it exited with ${signal ?? `code ${code}`}`;
      const displayName = path.basename(options.file);
      throw (
        refused ??
        new FerError(
          'decode_failed',
          `ffmpeg could not decode the video: ${withoutPaths(lastLine.trim(), options.file, displayName)}`,
        )
      );
    },
    kill() {
      killed = true;
      proc.kill('SIGKILL');
    },
  };
}

/** Where a stream of sampled frames comes from: one full decode, or one seek per sample. */
export interface Decoding {
  readonly width: number;
  readonly height: number;
  /** Frames sent before the first one wanted (a segment's lead frame), to be dropped. */
  readonly leadFrames: number;
  /** Sends the rgb24 frames into `sink` (ended when the last frame is written). */
  pipe(sink: Writable): void;
  /** After the output has ended: throws the decoding failure, if ffmpeg reported one. */
  finish(): Promise<void>;
  kill(): void;
}
