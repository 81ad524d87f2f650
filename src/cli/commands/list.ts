// `fer-stream list [--state S] [--limit N] [--json]`: the submitted videos, newest first, one line
// each (id, state, progress, name), as the API's GET /v1/videos lists them.

import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import { VIDEO_STATES, type VideoState } from '../../api/service.ts';
import { loadConfig } from '../../config/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';

const list: Command = {
  summary: 'Submitted videos, newest first',
  usage: [
    'Usage: fer-stream list [--state S] [--limit N] [--json]',
    '',
    `  --state S    only videos in state S (${VIDEO_STATES.join(', ')})`,
    '  --limit N    at most N videos (default 20)',
    '  --json       one JSON document: {videos: [status…]}',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      state: { type: 'string' },
      limit: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length > 0) throw new UsageError('list takes no arguments (see --state, --limit)');
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new UsageError(`--limit must be an integer 1..10000, got "${values.limit}"`);
    if (values.state !== undefined && !(VIDEO_STATES as readonly string[]).includes(values.state))
      throw new UsageError(`--state must be one of ${VIDEO_STATES.join(', ')}, got "${values.state}"`);
    const pipeline = await openPipeline(loadConfig());
    const service = createPipelineVideoService(pipeline);
    try {
      const videos = [];
      let cursor: string | undefined;
      // Pages of at most 200 until `limit` videos or the end.
      while (videos.length < limit) {
        const page = await service.list({
          limit: Math.min(200, limit - videos.length),
          ...(values.state ? { state: values.state as VideoState } : {}),
          ...(cursor ? { cursor } : {}),
        });
        videos.push(...page.videos);
        if (page.next === null) break;
        cursor = page.next;
      }
      if (values.json) {
        console.log(JSON.stringify({ videos }, null, 2));
      } else if (videos.length === 0) {
        console.log(values.state ? `no ${values.state} videos` : 'no videos');
      } else {
        for (const v of videos) {
          const total = v.progress.framesTotal ?? v.progress.framesExpected;
          const progress = `${v.progress.framesDone}/${total ?? '?'}`;
          console.log(
            `${v.id}  ${v.state.padEnd(10)} ${progress.padStart(11)}  ${v.submittedAt ?? ''}  ${v.name ?? ''}${v.errors[0] ? `  (${v.errors[0].code})` : ''}`,
          );
        }
      }
      return EXIT_CODES.ok;
    } finally {
      await pipeline.close();
    }
  },
};

export default list;
