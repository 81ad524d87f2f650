// `fer-stream results ID [--format F] [--out FILE]`: the per-video
// result of a completed video, as JSON (default), CSV (one row per face per frame, per track or per person),
// the timeline chart, or the source video annotated with every face (needs the source file).

import { stat, writeFile } from 'node:fs/promises';
import { createPipelineVideoService } from '../../api/pipeline-service.ts';
import { loadConfig } from '../../config/index.ts';
import { resmoothVideoResult } from '../../results/aggregate.ts';
import { RESULT_FORMAT_NAMES, RESULT_FORMATS, resultFormat } from '../../results/formats.ts';
import { writeAnnotatedVideo } from '../../producer/index.ts';
import type { VideoResult } from '../../results/types.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { openPipeline } from '../connect.ts';
import { EXIT_CODES, type Command } from '../command.ts';

// The result table's formats, and the annotated video (drawn over the source: the CLI only).
const FORMATS = [...RESULT_FORMAT_NAMES, 'mp4'] as const;
type Format = (typeof FORMATS)[number];
const FORMAT_HELP = [
  ...RESULT_FORMATS.map((f) => `${f.name}${f.name === 'json' ? ' (default)' : ''}: ${f.description}`),
  "mp4: the source video with every face's box, track and expression drawn (needs --out and the source file where it was submitted)",
];

const results: Command = {
  summary: 'Results of a completed video (JSON, CSV or chart)',
  usage: [
    `Usage: fer-stream results ID [--format ${FORMATS.join('|')}] [--out FILE] [--smoothing K]`,
    '',
    '  --format F   one of:',
    ...FORMAT_HELP.map((line) => `                 ${line}`),
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
    if (!FORMATS.includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
    if (format === 'png' && values.out === undefined && process.stdout.isTTY)
      throw new UsageError('a PNG is not for a terminal: give --out FILE');
    if (format === 'mp4' && values.out === undefined)
      throw new UsageError('--format mp4 writes a video file: give --out FILE.mp4');
    const id = positionals[0]!;

    const config = loadConfig();
    const pipeline = await openPipeline(config);
    const service = createPipelineVideoService(pipeline);
    let result: VideoResult | null;
    let source = '';
    let name: string;
    try {
      const status = await service.status(id);
      if (status === null) {
        console.error(`fer-stream results: no video with id ${id} (never submitted, or past retention)`);
        return EXIT_CODES.failure;
      }
      if (status.state === 'failed' || status.state === 'cancelled') {
        console.error(
          `fer-stream results: video ${id} ${status.state}: ${status.errors.map((e) => `${e.message} (${e.code})`).join('; ')}`,
        );
        return EXIT_CODES.failure;
      }
      result = status.state === 'completed' ? await service.results(id) : null;
      // Only an annotated video needs the source's path.
      if (format === 'mp4') source = (await service.sourcePath(id)) ?? '';
      name = status.name || id;
      if (result === null) {
        console.error(
          `fer-stream results: video ${id} is ${status.state}, not finished yet (fer-stream status ${id} --wait)`,
        );
        return EXIT_CODES.pending;
      }
    } finally {
      await pipeline.close();
    }
    const final = smoothing === undefined ? result : resmoothVideoResult(result, smoothing);
    if (format === 'mp4') {
      if (
        !(await stat(source).then(
          (s) => s.isFile(),
          () => false,
        ))
      ) {
        console.error(
          `fer-stream results: the source of video ${id} is no longer at the path it was submitted with (${name}); the annotated video is drawn over the source`,
        );
        return EXIT_CODES.failure;
      }
      await writeAnnotatedVideo({
        source,
        result: final,
        out: values.out!,
        allowedContainers: config.pipeline.allowedContainers,
      });
      return EXIT_CODES.ok;
    }
    const output = await resultFormat(format)!.render(final, { pretty: true });
    if (values.out !== undefined) await writeFile(values.out, output);
    else process.stdout.write(output);
    return EXIT_CODES.ok;
  },
};

export default results;
