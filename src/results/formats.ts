// The result formats, once: the API's `?format=`, OpenAPI's enum and its description, the CLI's
// `results --format` and its help, and the files `analyze` writes per video all read this table.
// A new format is one entry here.

import { renderTimelinePng, renderTimelineSvg } from './chart.ts';
import { toCsv, toPersonsCsv, toTracksCsv } from './csv.ts';
import type { VideoResult } from './types.ts';

export interface RenderOptions {
  /** JSON indented for people (files, the CLI); compact for the API. */
  readonly pretty?: boolean;
}

export interface ResultFormat {
  readonly name: string;
  /** One line for help texts and the API's documentation. */
  readonly description: string;
  readonly contentType: string;
  /** What follows the video's name in a file of this format (`talk.tracks.csv`). */
  readonly fileSuffix: string;
  /** Served as a download (Content-Disposition: attachment) rather than shown in the browser. */
  readonly download: boolean;
  render(result: VideoResult, options?: RenderOptions): string | Buffer | Promise<string | Buffer>;
}

export const RESULT_FORMATS = [
  {
    name: 'json',
    description: 'the per-video result (docs/results.md)',
    contentType: 'application/json; charset=utf-8',
    fileSuffix: '.json',
    download: false,
    render: (result: VideoResult, options?: RenderOptions) =>
      options?.pretty ? `${JSON.stringify(result, null, 2)}\n` : JSON.stringify(result),
  },
  {
    name: 'csv',
    description: 'one row per face per frame',
    contentType: 'text/csv; charset=utf-8',
    fileSuffix: '.csv',
    download: true,
    render: toCsv,
  },
  {
    name: 'tracks-csv',
    description: 'one row per track (a face within a shot)',
    contentType: 'text/csv; charset=utf-8',
    fileSuffix: '.tracks.csv',
    download: true,
    render: toTracksCsv,
  },
  {
    name: 'persons-csv',
    description: 'one row per person (tracks joined across cuts by face identity)',
    contentType: 'text/csv; charset=utf-8',
    fileSuffix: '.persons.csv',
    download: true,
    render: toPersonsCsv,
  },
  {
    name: 'svg',
    description: 'the timeline chart',
    contentType: 'image/svg+xml',
    fileSuffix: '.svg',
    download: false,
    render: renderTimelineSvg,
  },
  {
    name: 'png',
    description: 'the timeline chart as a picture',
    contentType: 'image/png',
    fileSuffix: '.png',
    download: false,
    render: (result) => renderTimelinePng(result),
  },
] as const satisfies readonly ResultFormat[];

export type ResultFormatName = (typeof RESULT_FORMATS)[number]['name'];
export const RESULT_FORMAT_NAMES: readonly ResultFormatName[] = RESULT_FORMATS.map((f) => f.name);

/** The format of that name, or undefined. */
export function resultFormat(name: string): ResultFormat | undefined {
  return RESULT_FORMATS.find((f) => f.name === name);
}
