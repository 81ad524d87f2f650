// `fer-stream cancel ID...`: cancels and deletes videos, as the API's DELETE /v1/videos/{id}: an
// open video stops (its queued frame chunks dropped, their bytes back in the budget), a finished
// one is deleted; either way its records and results are gone.

import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import { loadConfig } from '../../config/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';

const cancel: Command = {
  summary: 'Cancel (or delete, when finished) videos and remove their data',
  usage: ['Usage: fer-stream cancel ID...', '', 'Exit code 0 when every id was found and removed, 1 when any id was unknown.'].join('\n'),
  async run(args) {
    const { positionals } = parseCommandArgs(args, {});
    if (positionals.length === 0) throw new UsageError('give at least one video id');
    const pipeline = await openPipeline(loadConfig());
    const service = createPipelineVideoService(pipeline);
    let unknown = 0;
    try {
      for (const id of positionals) {
        const outcome = await service.delete(id);
        if (outcome === null) {
          unknown += 1;
          console.error(`${id}: no such video (never submitted, or past retention)`);
        } else {
          console.log(`${id}: ${outcome.cancelled ? 'cancelled and deleted' : 'deleted'}`);
        }
      }
    } finally {
      await pipeline.close();
    }
    return unknown > 0 ? EXIT_CODES.failure : EXIT_CODES.ok;
  },
};

export default cancel;
