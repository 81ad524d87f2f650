// `fer-stream cancel ID...`: stops open videos as the API's POST /v1/videos/{id}/cancel does —
// their queued frame chunks dropped, their bytes back in the budget — and keeps each record in the
// `cancelled` state for the retention period. `--delete` removes videos instead, finished or not,
// records and results included, as DELETE /v1/videos/{id}.

import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import { loadConfig } from '../../config/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';

const cancel: Command = {
  summary: 'Cancel open videos (kept as cancelled), or delete videos with --delete',
  usage: [
    'Usage: fer-stream cancel [--delete] ID...',
    '',
    '  --delete   remove the videos, their records and results (finished or not)',
    '',
    'Exit code 0 when every id was cancelled (or deleted); 1 when any id was unknown, or already',
    'finished (completed, failed or cancelled: nothing to cancel; --delete removes it).',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { delete: { type: 'boolean', default: false } });
    if (positionals.length === 0) throw new UsageError('give at least one video id');
    const pipeline = await openPipeline(loadConfig());
    const service = createPipelineVideoService(pipeline);
    let refused = 0;
    const unknown = (id: string) => {
      refused += 1;
      console.error(`${id}: no such video (never submitted, or past retention)`);
    };
    try {
      for (const id of positionals) {
        if (values.delete) {
          const outcome = await service.delete(id);
          if (outcome === null) unknown(id);
          else console.log(`${id}: ${outcome.cancelled ? 'cancelled and deleted' : 'deleted'}`);
          continue;
        }
        const outcome = await service.cancel(id);
        if (outcome === null) unknown(id);
        else if (outcome === 'cancelled') console.log(`${id}: cancelled`);
        else {
          refused += 1;
          console.error(`${id}: already finished, nothing to cancel (fer-stream cancel --delete ${id} removes it)`);
        }
      }
    } finally {
      await pipeline.close();
    }
    return refused > 0 ? EXIT_CODES.failure : EXIT_CODES.ok;
  },
};

export default cancel;
