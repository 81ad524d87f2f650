import sharp from 'sharp';
import { FAILED, NO_FACE, type FrameEntry, type Segment, type VideoResult } from './types.ts';

// Timeline chart of a per-video result, for people who would rather look than read: stacked
// frame probabilities over time (a step per sampled frame, gaps where no face was found), the
// timeline segments as a band under it, one band per person (per track where identities were not
// computed), a time axis and a legend. SVG built
// by hand (no chart library needed for rectangles and polygons); sharp (librsvg) renders the PNG.

const WIDTH = 960;
const LEFT = 110;
const RIGHT = 20;
const PLOT_TOP = 64;
const PLOT_HEIGHT = 200;
const BAND_HEIGHT = 22;
const TRACK_HEIGHT = 18;
const GAP = 10;

const KNOWN_COLOURS: Record<string, string> = {
  angry: '#d62728',
  anger: '#d62728',
  disgust: '#2ca02c',
  fear: '#9467bd',
  happy: '#ffbf00',
  happiness: '#ffbf00',
  neutral: '#8c9bab',
  sad: '#1f77b4',
  sadness: '#1f77b4',
  surprise: '#17becf',
  contempt: '#8c564b',
};
const FALLBACK_COLOURS = ['#e377c2', '#bcbd22', '#ff7f0e', '#7f7f7f', '#aec7e8', '#98df8a', '#c5b0d5'];
const NO_FACE_COLOUR = '#e6e6e6';
const FAILED_COLOUR = '#5a1a1a';

/** The palette, for other renderers of the same colours (the API's /view page does the same mapping in the browser). */
export const CHART_PALETTE = {
  known: KNOWN_COLOURS,
  fallback: FALLBACK_COLOURS,
  noFace: [NO_FACE, NO_FACE_COLOUR],
  failed: [FAILED, FAILED_COLOUR],
} as const;

export function labelColours(labels: readonly string[]): Record<string, string> {
  let fallback = 0;
  const colours: Record<string, string> = { [NO_FACE]: NO_FACE_COLOUR, [FAILED]: FAILED_COLOUR };
  for (const label of labels)
    colours[label] = KNOWN_COLOURS[label.toLowerCase()] ?? FALLBACK_COLOURS[fallback++ % FALLBACK_COLOURS.length]!;
  return colours;
}

export function renderTimelineSvg(result: VideoResult): string {
  const colours = labelColours(result.labels);
  const lastEnd = result.segments.length > 0 ? result.segments[result.segments.length - 1]!.end : 0;
  const duration = Math.max(
    lastEnd,
    typeof result.video.durationSeconds === 'number' ? result.video.durationSeconds : 0,
    1e-6,
  );
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (t: number) => LEFT + (Math.min(Math.max(t, 0), duration) / duration) * plotWidth;
  const bandTop = PLOT_TOP + PLOT_HEIGHT + GAP;
  const tracksTop = bandTop + BAND_HEIGHT + GAP;
  // One band per person where tracks were joined into persons (what a reader asks: who felt what), else per track.
  const persons = result.persons ?? [];
  const rows =
    persons.length > 0
      ? persons.map((p) => ({ name: `person ${p.personId}`, segments: p.segments }))
      : result.tracks.map((t) => ({ name: `track ${t.trackId}`, segments: t.segments }));
  const axisTop = tracksTop + rows.length * (TRACK_HEIGHT + 4) + (rows.length > 0 ? GAP : 0);
  const legendTop = axisTop + 36;
  const legendEntries = [...result.labels, NO_FACE, FAILED];
  const legendColumns = 5;
  const height = legendTop + Math.ceil(legendEntries.length / legendColumns) * 20 + 10;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);

  const name = typeof result.video.name === 'string' && result.video.name !== '' ? result.video.name : result.videoId;
  parts.push(text(LEFT, 24, `Expressions over time: ${name}`, 16, 'start', 'bold'));
  const c = result.counts;
  // Whole-frame mode (no detector): every "face" is the frame itself, so visibility means nothing.
  const wholeFrame = c.faces > 0 && result.frames.every((f) => f.faces.every((face) => face.detectorScore === null));
  const faces = wholeFrame ? 'whole-frame mode' : `face visible in ${pct(c.faceVisibleShare)}`;
  const dominant = result.dominant
    ? `dominant ${result.dominant.label} (${pct(result.dominant.frameShare)} of frames with a face)`
    : 'no face found';
  parts.push(
    text(
      LEFT,
      44,
      `${c.sampled} sampled frames, ${faces}, ${c.failed} failed, ${c.tracks} track${c.tracks === 1 ? '' : 's'}${persons.length > 0 ? `, ${persons.length} person${persons.length === 1 ? '' : 's'}` : ''}; ${dominant}; model ${result.model.name}`,
      12,
      'start',
    ),
  );

  // Probability area: per run of adjacent frames with probabilities, one step polygon per label.
  parts.push(
    `<rect x="${LEFT}" y="${PLOT_TOP}" width="${plotWidth}" height="${PLOT_HEIGHT}" fill="${NO_FACE_COLOUR}" fill-opacity="0.35"/>`,
  );
  const y = (p: number) => PLOT_TOP + PLOT_HEIGHT * (1 - p);
  const endOf = frameEnds(result);
  for (const frame of result.frames.filter((f) => f.error !== undefined)) {
    const width = Math.max(x(endOf.get(frame)!) - x(frame.timestamp), 0.5);
    parts.push(
      `<rect x="${fmt(x(frame.timestamp))}" y="${PLOT_TOP}" width="${fmt(width)}" height="${PLOT_HEIGHT}" fill="${FAILED_COLOUR}" fill-opacity="0.5"/>`,
    );
  }
  for (const run of probabilityRuns(result.frames)) {
    const cumulative = run.map(() => 0);
    result.labels.forEach((label, li) => {
      const upper: string[] = [];
      const lower: string[] = [];
      run.forEach((frame, i) => {
        const below = cumulative[i]!;
        const above = below + frame.probabilities![li]!;
        cumulative[i] = above;
        const [x0, x1] = [fmt(x(frame.timestamp)), fmt(x(endOf.get(frame)!))];
        upper.push(`${x0},${fmt(y(above))}`, `${x1},${fmt(y(above))}`);
        lower.push(`${x0},${fmt(y(below))}`, `${x1},${fmt(y(below))}`);
      });
      const outline = [...upper, ...lower.reverse()].join(' ');
      parts.push(
        `<polygon points="${outline}" fill="${colours[label]}" stroke="none"><title>${escapeXml(label)}</title></polygon>`,
      );
    });
  }
  parts.push(
    `<rect x="${LEFT}" y="${PLOT_TOP}" width="${plotWidth}" height="${PLOT_HEIGHT}" fill="none" stroke="#444" stroke-width="1"/>`,
  );
  for (const p of [0, 0.5, 1]) {
    parts.push(`<line x1="${LEFT - 4}" x2="${LEFT}" y1="${fmt(y(p))}" y2="${fmt(y(p))}" stroke="#444"/>`);
    parts.push(text(LEFT - 8, y(p) + 4, p.toFixed(1), 11, 'end'));
  }
  parts.push(text(12, PLOT_TOP + PLOT_HEIGHT / 2, 'probability', 12, 'start'));

  parts.push(text(12, bandTop + 15, 'timeline', 12, 'start'));
  parts.push(...segmentBand(result.segments, bandTop, BAND_HEIGHT, x, colours));
  rows.forEach((row, i) => {
    const top = tracksTop + i * (TRACK_HEIGHT + 4);
    parts.push(text(12, top + 13, row.name, 11, 'start'));
    parts.push(
      `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${TRACK_HEIGHT}" fill="#fafafa" stroke="#ddd"/>`,
    );
    parts.push(...segmentBand(row.segments, top, TRACK_HEIGHT, x, colours));
  });

  parts.push(`<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${axisTop}" y2="${axisTop}" stroke="#444"/>`);
  for (const t of timeTicks(duration)) {
    parts.push(`<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${axisTop}" y2="${axisTop + 5}" stroke="#444"/>`);
    parts.push(text(x(t), axisTop + 18, formatTime(t, duration), 11, 'middle'));
  }
  parts.push(text(LEFT + plotWidth, axisTop + 32, 'time', 11, 'end'));

  legendEntries.forEach((label, i) => {
    const lx = LEFT + (i % legendColumns) * 150;
    const ly = legendTop + Math.floor(i / legendColumns) * 20;
    parts.push(
      `<rect x="${lx}" y="${ly}" width="14" height="14" fill="${colours[label]}" stroke="#666" stroke-width="0.5"/>`,
    );
    parts.push(text(lx + 20, ly + 12, label.replace('_', ' '), 12, 'start'));
  });

  parts.push('</svg>');
  return parts.join('\n');
}

/** The chart as PNG (sharp renders the SVG; `scale` 2 gives a crisp image on high-density screens). */
export async function renderTimelinePng(result: VideoResult, scale = 1): Promise<Buffer> {
  return sharp(Buffer.from(renderTimelineSvg(result)), { density: 72 * scale })
    .png()
    .toBuffer();
}

function segmentBand(
  segments: readonly Segment[],
  top: number,
  height: number,
  x: (t: number) => number,
  colours: Record<string, string>,
): string[] {
  return segments.map((s) => {
    const tip = `${s.label} ${s.start.toFixed(2)}–${s.end.toFixed(2)} s (${s.frames} frames)`;
    return `<rect x="${fmt(x(s.start))}" y="${top}" width="${fmt(Math.max(x(s.end) - x(s.start), 0.5))}" height="${height}" fill="${colours[s.label] ?? '#000'}"><title>${escapeXml(tip)}</title></rect>`;
  });
}

/** Maximal runs of adjacent frames that have probabilities (a no-face or failed frame ends a run). */
function probabilityRuns(frames: readonly FrameEntry[]): FrameEntry[][] {
  const runs: FrameEntry[][] = [];
  let current: FrameEntry[] = [];
  for (const frame of frames) {
    if (frame.probabilities === null) {
      if (current.length > 0) runs.push(current);
      current = [];
    } else current.push(frame);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/** Where each frame's step ends: the next sampled frame's timestamp, or one frame interval after the last. */
function frameEnds(result: VideoResult): Map<FrameEntry, number> {
  const ends = new Map<FrameEntry, number>();
  result.frames.forEach((frame, i) => {
    const next = result.frames[i + 1];
    ends.set(frame, next !== undefined ? next.timestamp : frame.timestamp + result.aggregation.frameInterval);
  });
  return ends;
}

/** About 8 ticks at a 1-2-5 step. */
export function timeTicks(duration: number): number[] {
  const raw = duration / 8;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t <= duration + step * 1e-9; t += step) ticks.push(Number(t.toFixed(6)));
  return ticks;
}

function formatTime(t: number, duration: number): string {
  if (duration < 60) return `${Number(t.toFixed(2))} s`;
  const minutes = Math.floor(t / 60);
  const seconds = Math.round(t - minutes * 60);
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}

function text(
  x: number,
  y: number,
  content: string,
  size: number,
  anchor: 'start' | 'middle' | 'end',
  weight = 'normal',
): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}" font-size="${size}" text-anchor="${anchor}" font-weight="${weight}" fill="#222">${escapeXml(content)}</text>`;
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

export function escapeXml(value: string): string {
  return value.replace(
    /[<>&"']/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!,
  );
}
