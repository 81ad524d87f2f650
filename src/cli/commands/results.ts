// `fer-stream results ID [--format json|csv|svg|png] [--out FILE]`: the per-video result of a
// completed video, as JSON (default), CSV (one row per face per frame) or the timeline chart.

import { writeFile } from 'node:fs/promises';
import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import { loadConfig } from '../../config/index.ts';
import { resmoothVideoResult } from '../../results/aggregate.ts';
import { renderTimelinePng, renderTimelineSvg } from '../../results/chart.ts';
import { toCsv } from '../../results/csv.ts';
import type { VideoResult } from '../../results/types.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { openPipeline } from '../connect.ts';
import { EXIT_CODES, type Command } from '../command.ts';

const FORMATS = ['json', 'csv', 'svg', 'png'] as const;
type Format = (typeof FORMATS)[number];

export async function renderResult(result: VideoResult, format: Format): Promise<string | Buffer> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(result, null, 2)}\n`;
    case 'csv':
      return toCsv(result);
    case 'svg':
      return renderTimelineSvg(result);
    case 'png':
      return renderTimelinePng(result);
  }
}

const results: Command = {
  summary: 'Results of a completed video (JSON, CSV or chart)',
  usage: [
    'Usage: fer-stream results ID [--format json|csv|svg|png] [--out FILE] [--smoothing K]',
    '',
    '  --format F   json (default): the per-video result (README "Results format");',
    '               csv: one row per face per frame; svg / png: the timeline chart',
    '  --out FILE   write to FILE instead of stdout',
    '  --smoothing K  recompute the timeline with a K-frame moving average (1 = none)',
    '',
    'Exit codes: 0 written, 1 unknown id or the video failed, 2 bad usage, 4 Redis unreachable,',
    '5 the video is not finished yet (see `fer-stream status ID --wait`).',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      format: { type: 'string', default: 'json' },
      out: { type: 'string' },
      smoothing: { type: 'string' },
    });
    const smoothing = values.smoothing === undefined ? undefined : Number(values.smoothing);
    if (smoothing !== undefined && !(Number.isInteger(smoothing) && smoothing >= 1 && smoothing <= 101)) {
      throw new UsageError(`--smoothing must be an integer 1..101, got "${values.smoothing}"`);
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one video id');
    const format = values.format as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
    if (format === 'png' && values.out === undefined && process.stdout.isTTY) throw new UsageError('a PNG is not for a terminal: give --out FILE');
    const id = positionals[0]!;

    const pipeline = await openPipeline(loadConfig());
    const service = createPipelineVideoService(pipeline);
    let result: VideoResult | null;
    try {
      const status = await service.status(id);
      if (status === null) {
        console.error(`fer-stream results: no video with id ${id} (never submitted, or past retention)`);
        return EXIT_CODES.failure;
      }
      if (status.state === 'failed') {
        console.error(`fer-stream results: video ${id} failed: ${status.errors.map((e) => `${e.message} (${e.code})`).join('; ')}`);
        return EXIT_CODES.failure;
      }
      result = status.state === 'completed' ? await service.results(id) : null;
      if (result === null) {
        console.error(`fer-stream results: video ${id} is ${status.state}, not finished yet (fer-stream status ${id} --wait)`);
        return EXIT_CODES.pending;
      }
    } finally {
      await pipeline.close();
    }
    const output = await renderResult(smoothing === undefined ? result : resmoothVideoResult(result, smoothing), format);
    if (values.out !== undefined) await writeFile(values.out, output);
    else process.stdout.write(output);
    return EXIT_CODES.ok;
  },
};

export default results;
