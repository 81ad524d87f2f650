// `fer-stream submit VIDEO... [--fps N] [--start S] [--end S] [--max-frames N] [--json]`: queues
// videos for the producers and prints their ids. The paths must be readable where the producers
// run (same machine, or a shared volume at the same path).

import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import type { SubmitOptions } from '../../api/service.ts';
import { loadConfig } from '../../config/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { SAMPLING_FLAGS, samplingChoice } from '../sampling-flags.ts';
import { openPipeline } from '../connect.ts';
import { EXIT_CODES, type Command } from '../command.ts';

type Outcome = { video: string; id: string } | { video: string; error: string };

const submit: Command = {
  summary: 'Queue videos for processing; prints their ids',
  usage: [
    'Usage: fer-stream submit VIDEO... [--fps N] [--start S] [--end S] [--max-frames N] [--callback-url URL] [--json]',
    '',
    '  --fps N          frames sampled per second (default FER_FPS)',
    '  --start S        start sampling S seconds into the video',
    '  --end S          stop sampling at S seconds',
    '  --max-frames N   sample at most N frames',
    '  --callback-url URL  told (POST, signed with FER_WEBHOOK_SECRET) when each video completes or fails',
    '  --json           print [{"video", "id"} | {"video", "error"}] as JSON',
    '',
    'Prints "ID<TAB>VIDEO" per queued video. Follow with `fer-stream status ID`, fetch with',
    '`fer-stream results ID`. Video files must be readable by the producers at the same path.',
    "Exit codes: 0 all queued, 3 some queued (the others' errors on stderr), 1 none queued,",
    '2 bad usage, 4 Redis unreachable.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...SAMPLING_FLAGS,
      'callback-url': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const callbackUrl = values['callback-url'];
    if (callbackUrl !== undefined && !/^https?:\/\/[^\s/]+/i.test(callbackUrl))
      throw new UsageError(`--callback-url must be an http:// or https:// URL, got "${callbackUrl}"`);
    if (positionals.length === 0) throw new UsageError('give at least one video file');
    const options: SubmitOptions = samplingChoice(values);

    const config = loadConfig();
    const pipeline = await openPipeline(config);
    const service = createPipelineVideoService(pipeline);
    const outcomes: Outcome[] = [];
    try {
      for (const video of positionals) {
        try {
          const absolute = path.resolve(video);
          // Checked here so a typo fails now rather than later in a producer.
          await access(absolute, constants.R_OK).catch(() => {
            throw new Error('file not found or not readable');
          });
          if (!(await stat(absolute)).isFile()) throw new Error('not a regular file');
          const { id } = await service.submit({
            path: absolute,
            originalName: path.basename(video),
            uploaded: false,
            options,
            ...(callbackUrl ? { callbackUrl } : {}),
          });
          outcomes.push({ video, id });
        } catch (error) {
          outcomes.push({ video, error: (error as Error).message });
        }
      }
    } finally {
      await pipeline.close();
    }

    if (values.json) console.log(JSON.stringify(outcomes, null, 2));
    for (const o of outcomes) {
      if ('id' in o) {
        if (!values.json) console.log(`${o.id}\t${o.video}`);
      } else console.error(`fer-stream submit: ${o.video}: ${o.error}`);
    }
    const queued = outcomes.filter((o) => 'id' in o).length;
    return queued === outcomes.length ? EXIT_CODES.ok : queued > 0 ? EXIT_CODES.partial : EXIT_CODES.failure;
  },
};

export default submit;
