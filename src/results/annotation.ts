// An annotated video's overlay as an ASS subtitle script (rendered by ffmpeg's libass `ass`
// filter): per sampled frame and face, the box (a vector outline in the colour of the face's top
// expression, as in the timeline chart) and a label "#track expression probability", shown from
// that sample until the next one, so labels hold between samples at the source frame rate. One
// event per face per sample stays cheap where a drawbox filter per face would slow ffmpeg down.

import { labelColours } from './chart.ts';
import type { VideoResult } from './types.ts';

/** "#RRGGBB" as ASS's &HBBGGRR&. */
function assColour(hex: string): string {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  return m ? `&H${m[3]}${m[2]}${m[1]}&`.toUpperCase() : '&H00FF00&';
}

function assTime(seconds: number): string {
  const cs = Math.max(0, Math.round(seconds * 100));
  const h = Math.floor(cs / 360_000);
  const m = Math.floor((cs % 360_000) / 6000);
  const s = Math.floor((cs % 6000) / 100);
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

export interface AnnotationOptions {
  /** Width of the box outline in video pixels (default: about 1/200 of the frame width, at least 2). */
  readonly lineWidth?: number;
}

/** The ASS script for `result`, in the result's video pixels (the displayed, rotated size). */
export function annotationSubtitles(result: VideoResult, options: AnnotationOptions = {}): string {
  const width = Number(result.video.width ?? result.video.frameWidth ?? 640);
  const height = Number(result.video.height ?? result.video.frameHeight ?? 480);
  const line = options.lineWidth ?? Math.max(2, Math.round(width / 200));
  const fontSize = Math.max(12, Math.round(height / 28));
  const colours = labelColours(result.labels);
  const frames = [...result.frames].sort((a, b) => a.timestamp - b.timestamp);
  const interval = result.aggregation.frameInterval;
  const events: string[] = [];
  frames.forEach((frame, i) => {
    const start = frame.timestamp;
    const end = i + 1 < frames.length ? frames[i + 1]!.timestamp : start + interval;
    for (const face of frame.faces) {
      const { x, y, width: w, height: h } = face.box;
      const colour = assColour(colours[face.label] ?? '#00ff00');
      const [x0, y0, x1, y1] = [x, y, x + w, y + h].map((v) => Math.round(v));
      // The outline: a filled frame (outer rectangle minus inner one), so no border styling is needed.
      const [ix0, iy0, ix1, iy1] = [x0! + line, y0! + line, x1! - line, y1! - line];
      const outline = `m ${x0} ${y0} l ${x1} ${y0} l ${x1} ${y1} l ${x0} ${y1} l ${x0} ${y0} m ${ix0} ${iy0} l ${ix0} ${iy1} l ${ix1} ${iy1} l ${ix1} ${iy0} l ${ix0} ${iy0}`;
      events.push(
        `Dialogue: 0,${assTime(start)},${assTime(end)},Box,,0,0,0,,{\\an7\\pos(0,0)\\p1\\1c${colour}\\bord0\\shad0}${outline}{\\p0}`,
      );
      const probability = Math.max(...face.probabilities);
      const track = face.trackId !== null && face.trackId !== undefined ? `#${face.trackId} ` : '';
      const labelY = y0! - 2 >= fontSize ? y0! - 2 : y1! + fontSize + 2;
      events.push(
        `Dialogue: 1,${assTime(start)},${assTime(end)},Label,,0,0,0,,{\\an1\\pos(${x0},${labelY})\\1c${colour}}${track}${face.label} ${probability.toFixed(2)}`,
      );
    }
  });
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${width}`,
    `PlayResY: ${height}`,
    'ScaledBorderAndShadow: yes',
    'WrapStyle: 2',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    'Style: Box,DejaVu Sans,10,&H0000FF00,&H0000FF00,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,0,0,7,0,0,0,1',
    `Style: Label,DejaVu Sans,${fontSize},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,1,0,0,0,100,100,0,0,1,2,0,1,0,0,0,1`,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...events,
    '',
  ].join('\n');
}
