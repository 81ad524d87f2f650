// analyze's output files: each video's JSON, CSVs, chart (and annotated video) written the moment
// it ends, so an interrupted run keeps every video that had finished; and its summary lines.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getVideoResult, type Pipeline, type VideoStatus } from '../pipeline/index.ts';
import { writeAnnotatedVideo } from '../producer/index.ts';
import { RESULT_FORMATS, type VideoResult } from '../results/index.ts';
import { count } from './plural.ts';

export interface VideoOutputsOptions {
  readonly pipeline: Pipeline;
  readonly outDir: string;
  /** Also write NAME.annotated.mp4 (boxes and labels drawn on the video). */
  readonly annotate: boolean;
  readonly allowedContainers: readonly string[];
}

/** What was written for one video: its summary lines, and whether it completed. */
export interface VideoOutcome {
  readonly completed: boolean;
  readonly lines: readonly string[];
}

export class VideoOutputs {
  private readonly used = new Set<string>();
  private readonly outcomes = new Map<string, Promise<VideoOutcome>>();

  constructor(private readonly options: VideoOutputsOptions) {}

  /** Writes a finished video's files once (later calls for it return the same outcome). */
  finished(status: VideoStatus, video: string): Promise<VideoOutcome> {
    let outcome = this.outcomes.get(status.videoId);
    if (outcome === undefined) {
      // Named in the order videos finish would differ run to run: names are taken in call order,
      // which follows the command line within one poll.
      const base = uniqueName(path.parse(video).name, this.used);
      outcome = this.write(status, video, base);
      this.outcomes.set(status.videoId, outcome);
    }
    return outcome;
  }

  /** Every outcome so far, in the order the videos were given. */
  async all(ids: readonly string[]): Promise<Map<string, VideoOutcome>> {
    const settled = new Map<string, VideoOutcome>();
    for (const id of ids) {
      const outcome = this.outcomes.get(id);
      if (outcome !== undefined) settled.set(id, await outcome);
    }
    return settled;
  }

  private async write(status: VideoStatus, video: string, base: string): Promise<VideoOutcome> {
    if (status.state !== 'completed')
      return {
        completed: false,
        lines: [`${video}: FAILED (${status.error?.code ?? 'unknown'}) ${status.error?.message ?? ''}`],
      };
    const result = await getVideoResult<VideoResult>(this.options.pipeline, status.videoId);
    if (result === null)
      return { completed: false, lines: [`${video}: completed, but its result is no longer in Redis`] };
    const file = (suffix: string) => path.join(this.options.outDir, `${base}${suffix}`);
    for (const format of RESULT_FORMATS)
      await writeFile(file(format.fileSuffix), await format.render(result, { pretty: true }));
    const lines: string[] = [];
    if (this.options.annotate) {
      await writeAnnotatedVideo({
        source: video,
        result,
        out: file('.annotated.mp4'),
        allowedContainers: this.options.allowedContainers,
      }).catch((error: Error) => {
        lines.push(`${video}: ${error.message}`);
      });
    }
    const c = result.counts;
    const dominant = result.dominant
      ? `${result.dominant.label} (${(result.dominant.frameShare * 100).toFixed(0)}% of frames)`
      : 'none';
    const reused = c.reusedFaces > 0 ? `, ${c.reusedFaces} of ${count(c.faces, 'face')} reused` : '';
    const people =
      result.persons.length > 0
        ? `, ${count(result.persons.length, 'person')}`
        : c.tracks > 0
          ? `, ${count(c.tracks, 'track')}`
          : '';
    const written = [
      ...RESULT_FORMATS.map((f) => `${base}${f.fileSuffix}`),
      ...(this.options.annotate ? [`${base}.annotated.mp4`] : []),
    ];
    lines.unshift(
      `${video}: ${count(c.sampled, 'frame')} (${c.failed} failed${reused})${people}, dominant ${dominant} → ${path.join(this.options.outDir, written[0]!)}, ${written.slice(1).join(', ')}`,
    );
    for (const p of result.persons)
      lines.push(
        `  person ${p.personId}: ${p.screenTimeSeconds.toFixed(1)} s on screen, ${p.dominant ? `mostly ${p.dominant.label} (${(p.dominant.frameShare * 100).toFixed(0)}% of their frames)` : 'no expression'}`,
      );
    return { completed: true, lines };
  }
}

function uniqueName(stem: string, used: Set<string>): string {
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}
