// `fer-stream status ID [--json] [--wait [--timeout S]]`: state and progress of a submitted video.

import { setTimeout as sleep } from 'node:timers/promises';
import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import type { VideoStatus } from '../../api/service.ts';
import { loadConfig } from '../../config/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { openPipeline } from '../connect.ts';
import { createProgressView, type ProgressStatus } from '../progress.ts';
import { EXIT_CODES, type Command } from '../command.ts';

const POLL_MS = 500;

export function formatStatus(s: VideoStatus): string {
  const p = s.progress;
  const total = p.framesTotal ?? p.framesExpected;
  const progress =
    total === null
      ? `${p.framesDone} frames done (total not known yet)`
      : `${p.framesDone}/${total} frames${p.framesTotal === null ? ' (expected)' : ''} (${Math.round((p.fraction ?? 0) * 100)}%)`;
  return [
    `id:        ${s.id}`,
    ...(s.name ? [`name:      ${s.name}`] : []),
    `state:     ${s.state}`,
    `progress:  ${progress}, ${p.framesFailed} failed`,
    ...(s.submittedAt ? [`submitted: ${s.submittedAt}`] : []),
    ...(s.completedAt ? [`finished:  ${s.completedAt}`] : []),
    ...s.errors.map((e) => `error:     ${e.message} (${e.code})`),
    ...(s.warnings ?? []).map((w) => `warning:   ${w}`),
  ].join('\n');
}

const status: Command = {
  summary: 'State and progress of a submitted video',
  usage: [
    'Usage: fer-stream status ID [--json] [--wait [--timeout S]]',
    '',
    '  --json         print the status as JSON',
    '  --wait         poll until the video is completed or failed (progress on stderr)',
    '  --timeout S    with --wait, give up after S seconds (default: wait for ever)',
    '',
    'Exit codes: 0 the video is known and has not failed (with --wait: completed), 1 the video',
    'failed or the id is unknown, 2 bad usage, 4 Redis unreachable, 5 --timeout ran out first.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      json: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one video id');
    const timeoutS = values.timeout === undefined ? Infinity : Number(values.timeout);
    if (!(timeoutS > 0))
      throw new UsageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
    const id = positionals[0]!;

    const pipeline = await openPipeline(loadConfig());
    const service = createPipelineVideoService(pipeline);
    try {
      const deadline = Date.now() + timeoutS * 1000;
      let current = await service.status(id);
      // Progress on stderr (a bar on a terminal, a line per state change otherwise); the answer on stdout.
      const view = values.wait ? createProgressView(process.stderr, new Map([[id, id]])) : undefined;
      while (
        values.wait &&
        current !== null &&
        !['completed', 'failed', 'cancelled'].includes(current.state) &&
        Date.now() < deadline
      ) {
        view?.update(new Map([[id, asProgress(current)]]));
        await sleep(POLL_MS);
        current = await service.status(id);
      }
      if (view && current !== null) view.update(new Map([[id, asProgress(current)]]));
      view?.done();
      if (current === null) {
        console.error(`fer-stream status: no video with id ${id} (never submitted, or past retention)`);
        return EXIT_CODES.failure;
      }
      console.log(values.json ? JSON.stringify(current, null, 2) : formatStatus(current));
      if (current.state === 'failed' || current.state === 'cancelled') return EXIT_CODES.failure;
      if (values.wait && current.state !== 'completed') return EXIT_CODES.pending;
      return EXIT_CODES.ok;
    } finally {
      await pipeline.close();
    }
  },
};

/** The API's status (errors as a list) in the shape the progress display takes. */
function asProgress(s: VideoStatus): ProgressStatus {
  // The progress view knows the pipeline's states: a cancelled video is a failed one there.
  return { state: s.state === 'cancelled' ? 'failed' : s.state, progress: s.progress, error: s.errors[0] ?? null };
}

export default status;
