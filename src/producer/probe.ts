// ffprobe of a video file and its validation against the configured limits. Every rejection is a
// FerError with a stable code and a message that says what was wrong and which limit applies.

import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_ALLOWED_CONTAINERS } from '../config/pipeline.ts';
import { FerError } from '../core/errors.ts';
import { mediaBinaries } from './binaries.ts';
import { containerRefusal, refuseScripts, safeInput, safeInputOptions, withoutPaths } from './media-safety.ts';
import type { VideoProbe } from '../core/sampling-geometry.ts';

const run = promisify(execFile);

// The probe's shape lives with the rest of the sampling geometry (one home for producer, pipeline, results).
export type { VideoProbe } from '../core/sampling-geometry.ts';

export interface ProbeLimits {
  readonly maxDurationSeconds: number;
  readonly maxFileBytes: number;
  readonly maxSourcePixels: number;
  /** Demuxers ffprobe may use (FER_ALLOWED_CONTAINERS); default: the configuration's default. */
  readonly allowedContainers?: readonly string[];
  /** ffprobe's time limit (FER_PROBE_TIMEOUT_MS). */
  readonly probeTimeoutMs?: number;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  start_time?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

/**
 * Probes `file` and checks it against `limits`; throws FerError (`invalid_video`,
 * `unsupported_container`, `video_too_long`, …) on bad input. Messages name the video by
 * `displayName` (default: the file's base name), never by its path on the server.
 */
export async function probeVideo(
  file: string,
  limits: ProbeLimits,
  displayName = path.basename(file),
): Promise<VideoProbe> {
  let fileBytes: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new FerError('invalid_video', `"${displayName}" is not a regular file`);
    fileBytes = info.size;
  } catch (error) {
    if (error instanceof FerError) throw error;
    const code = (error as { code?: string }).code ?? 'error';
    throw new FerError('video_not_found', `cannot read video file "${displayName}" (${code})`);
  }
  if (fileBytes === 0) throw new FerError('empty_file', `video file "${displayName}" is empty (0 bytes)`);
  if (fileBytes > limits.maxFileBytes) {
    throw new FerError(
      'file_too_large',
      `video file is ${fileBytes} bytes, over the limit of ${limits.maxFileBytes} bytes (FER_MAX_FILE_BYTES)`,
    );
  }

  const containers = limits.allowedContainers ?? DEFAULT_ALLOWED_CONTAINERS;
  const timeoutMs = limits.probeTimeoutMs ?? 30_000;
  await refuseScripts(file, containers);
  let output: FfprobeOutput;
  try {
    // No shell (execFile); local files only, real containers only (media-safety.ts); bounded time.
    const args = [
      '-v',
      'error',
      ...safeInputOptions(containers),
      '-print_format',
      'json',
      '-show_streams',
      '-show_format',
      safeInput(file),
    ];
    const { stdout } = await run(mediaBinaries().ffprobe, args, {
      maxBuffer: 16 * 1024 * 1024,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    output = JSON.parse(stdout) as FfprobeOutput;
  } catch (error) {
    const failure = error as { stderr?: string; killed?: boolean; signal?: string };
    const stderr = String(failure.stderr ?? '');
    const refused = containerRefusal(stderr, containers);
    if (refused) throw refused;
    if (failure.killed || failure.signal === 'SIGKILL')
      throw new FerError(
        'probe_timeout',
        `ffprobe did not finish reading "${displayName}" within ${timeoutMs} ms (FER_PROBE_TIMEOUT_MS)`,
      );
    const lastLine = stderr.trim().split('\n').pop() ?? '';
    // Never the command line (error.message has it, with the server's path): ffprobe's own words, paths replaced.
    throw new FerError(
      'invalid_video',
      `not a readable video file (ffprobe: ${withoutPaths(lastLine, file, displayName) || 'no details'})`,
    );
  }

  const streams = output.streams ?? [];
  // Cover art in audio files is a "video" stream with the attached_pic disposition: not a video.
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (video === undefined) {
    const found = streams.map((s) => `${s.codec_type ?? '?'}/${s.codec_name ?? '?'}`).join(', ') || 'no streams';
    throw new FerError(
      'no_video_stream',
      `file has no video stream (found: ${found}); audio-only and image files cannot be analysed`,
    );
  }
  const codedWidth = video.width ?? 0;
  const codedHeight = video.height ?? 0;
  if (codedWidth <= 0 || codedHeight <= 0)
    throw new FerError('invalid_video', `video stream has no frame size (codec ${video.codec_name ?? 'unknown'})`);
  if (codedWidth * codedHeight > limits.maxSourcePixels) {
    throw new FerError(
      'frame_too_large',
      `video frames are ${codedWidth}x${codedHeight} = ${codedWidth * codedHeight} pixels, over the limit of ${limits.maxSourcePixels} (FER_MAX_SOURCE_PIXELS)`,
    );
  }

  const durationSeconds = positiveNumber(video.duration) ?? positiveNumber(output.format?.duration);
  if (durationSeconds !== null && durationSeconds > limits.maxDurationSeconds) {
    throw new FerError(
      'video_too_long',
      `video lasts ${durationSeconds.toFixed(1)} s, over the limit of ${limits.maxDurationSeconds} s (FER_MAX_DURATION_SECONDS)`,
    );
  }

  const rotation = rotationOf(video);
  const swap = rotation === 90 || rotation === 270;
  return {
    durationSeconds,
    codedWidth,
    codedHeight,
    width: swap ? codedHeight : codedWidth,
    height: swap ? codedWidth : codedHeight,
    rotation,
    frameRate: rate(video.avg_frame_rate) ?? rate(video.r_frame_rate),
    videoCodec: video.codec_name ?? 'unknown',
    audioCodec: audio?.codec_name ?? null,
    container: output.format?.format_name ?? 'unknown',
    fileBytes,
    startTime: Number(output.format?.start_time ?? video.start_time ?? 0) || 0,
  };
}

/**
 * Clockwise display rotation. The display matrix side data gives the counter-clockwise angle
 * (e.g. -90 for a phone held upright); old files carry a clockwise `rotate` tag instead.
 */
function rotationOf(stream: FfprobeStream): number {
  const matrix = stream.side_data_list?.find((d) => typeof d.rotation === 'number');
  const degrees = matrix !== undefined ? -(matrix.rotation as number) : Number(stream.tags?.rotate ?? 0);
  if (!Number.isFinite(degrees)) return 0;
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

function positiveNumber(value: string | undefined): number | null {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : null;
}

function rate(value: string | undefined): number | null {
  if (!value) return null;
  const [num, den] = value.split('/').map(Number);
  if (!num || !den) return null;
  return num / den;
}

/**
 * Whether ffmpeg's `-ss` lands exactly where asked in this container: those with an index of their
 * keyframes (MP4/MOV, Matroska/WebM) seek to the keyframe before the time and decode up to it.
 * MPEG-TS has none: a seek there can land on the keyframe after the time (measured: 29.97 fps
 * H.264 with a keyframe every 2 s, a seek to 11.04 s gave the frame at 12.01 s), so a video in it is
 * decoded from its start, never split or sampled by seeking.
 */
export function seeksExactly(probe: Pick<VideoProbe, 'container'>): boolean {
  return probe.container.split(',').some((name) => ['mov', 'mp4', 'matroska', 'webm'].includes(name));
}
