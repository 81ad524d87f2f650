import { execFileSync } from 'node:child_process';

/**
 * Generates a test video with ffmpeg's lavfi testsrc (moving pattern + counter). `rate` is the
 * video's own frame rate; `codec` defaults to mpeg4 in .mp4 (fast to decode).
 */
export function generateTestVideo(
  file: string,
  options: {
    seconds: number;
    width?: number;
    height?: number;
    rate?: number | string;
    codec?: string;
    extra?: string[];
  },
): string {
  const { seconds, width = 160, height = 120, rate = 25, codec = 'mpeg4' } = options;
  execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=${width}x${height}:rate=${rate}:duration=${seconds}`,
      '-c:v',
      codec,
      '-q:v',
      '5',
      ...(options.extra ?? []),
      file,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return file;
}

/** An audio-only file (sine tone). */
export function generateAudioOnly(file: string, seconds = 1): string {
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-c:a', 'aac', file],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return file;
}
