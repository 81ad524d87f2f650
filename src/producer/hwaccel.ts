// Hardware decoding where the machine has it (FER_DECODE_HWACCEL): ffmpeg's `-hwaccel` decodes on
// the GPU (NVDEC through cuda, VA-API on Intel/AMD), then the frames come back to system memory for
// the sampling filters, exactly as in software. `auto` picks a method ffmpeg was built with *and*
// whose device node is present (cuda: /dev/nvidiactl; vaapi: /dev/dri/renderD128), else none.
// Before a method is used for a codec it is tried once on the video at hand (one frame, ffmpeg's
// own check): if the device or the codec is not there, that method is off for that codec for the
// life of the process — one log line — and decoding stays in software. So a GPU image on a
// machine without a GPU, or a codec the GPU cannot decode, costs one short ffmpeg run, not a video.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { HWACCEL_METHODS, PipelineConfig } from '../config/pipeline.ts';
import type { Logger } from '../core/logger.ts';
import { mediaBinaries } from './binaries.ts';
import { safeInput, safeInputOptions } from './media-safety.ts';

const run = promisify(execFile);

export type HwaccelSetting = PipelineConfig['decodeHwaccel'];

/** The device node each method needs, where one tells whether the machine has the hardware. */
const DEVICE_NODES: Partial<Record<(typeof HWACCEL_METHODS)[number], string>> = {
  cuda: '/dev/nvidiactl',
  vaapi: '/dev/dri/renderD128',
};
/** What auto tries, in order. */
const AUTO_ORDER = ['cuda', 'vaapi'] as const;

let listed: Promise<Set<string>> | undefined;
/** The hwaccel methods this ffmpeg was built with (`ffmpeg -hwaccels`), once per process. */
function builtWith(): Promise<Set<string>> {
  listed ??= run(mediaBinaries().ffmpeg, ['-hide_banner', '-hwaccels'])
    .then(
      ({ stdout }) =>
        new Set(
          stdout
            .split('\n')
            .slice(1)
            .map((l) => l.trim())
            .filter(Boolean),
        ),
    )
    .catch(() => new Set<string>());
  return listed;
}

/**
 * The method `setting` names on this machine: none → null; auto → the first built-in one whose device is present, else
 * null.
 */
export async function resolveHwaccel(
  setting: HwaccelSetting,
  deviceExists: (path: string) => boolean = existsSync,
): Promise<string | null> {
  if (setting === 'none') return null;
  if (setting !== 'auto') return setting;
  const methods = await builtWith();
  return AUTO_ORDER.find((m) => methods.has(m) && deviceExists(DEVICE_NODES[m]!)) ?? null;
}

/** method:codec → whether it decoded (a promise: concurrent videos share one trial). */
const trials = new Map<string, Promise<boolean>>();

/**
 * The hwaccel to decode `file` (codec `codec`) with: `method` when it decodes a frame of this
 * file, else null (software), told once per method and codec through `log`.
 */
export function hwaccelFor(
  method: string | null,
  file: string,
  codec: string,
  allowedContainers: readonly string[],
  log?: Logger,
): Promise<string | null> {
  if (method === null) return Promise.resolve(null);
  const key = `${method}:${codec}`;
  let trial = trials.get(key);
  if (trial === undefined) {
    const args = [
      ...safeInputOptions(allowedContainers),
      '-nostdin',
      '-v',
      'error',
      '-hwaccel',
      method,
      '-i',
      safeInput(file),
      '-an',
      '-sn',
      '-dn',
      '-frames:v',
      '1',
      '-f',
      'null',
      '-',
    ];
    trial = run(mediaBinaries().ffmpeg, args, { timeout: 30_000 }).then(
      () => true,
      (error: { stderr?: string; message: string }) => {
        const why =
          (error.stderr ?? error.message)
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .pop() ?? 'it failed';
        log?.warn(
          { hwaccel: method, codec },
          `hardware decoding (${method}) is not available for ${codec} here (${why}): decoding in software`,
        );
        return false;
      },
    );
    trials.set(key, trial);
  }
  return trial.then((ok) => (ok ? method : null));
}

/** Forgets the trials (tests). */
export function resetHwaccelTrials(): void {
  trials.clear();
  listed = undefined;
}
