import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { labelColours, renderTimelinePng, renderTimelineSvg, timeTicks } from '../../src/results/chart.ts';
import { face, frames, MODEL } from './fixtures.ts';

const result = buildVideoResult({
  videoId: 'chart-<&>-video',
  frames: frames([
    [face('happy', { p: 1, trackId: 1 })],
    [face('happy', { p: 1, trackId: 1 })],
    [face('happy', { p: 1, trackId: 1 }), face('sad', { trackId: 2 })],
    null,
    'FAIL',
    [face('sad', { trackId: 2 })],
  ]),
  video: { durationSeconds: 3 },
  model: MODEL,
});

function hex(colour: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];
}

describe('timeline chart', () => {
  it('is an SVG with one area per label per run of frames with a face, one band per segment and one row per track', () => {
    const svg = renderTimelineSvg(result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // Two runs with probabilities (frames 0–2 and 5), seven labels each.
    expect(svg.match(/<polygon /g)).toHaveLength(2 * MODEL.labels.length);
    for (const segment of [...result.segments, ...result.tracks.flatMap((t) => t.segments)]) {
      expect(svg).toContain(
        `<title>${segment.label} ${segment.start.toFixed(2)}–${segment.end.toFixed(2)} s (${segment.frames} frames)</title>`,
      );
    }
    expect(svg).toContain('>track 1<');
    expect(svg).toContain('>track 2<');
    // Text is escaped: the id appears only as entities.
    expect(svg).toContain('chart-&lt;&amp;&gt;-video');
    expect(svg).not.toContain('chart-<&>');
  });

  it('renders to a PNG that decodes, with the labels’ colours where the chart says they are', async () => {
    const png = await renderTimelinePng(result);
    expect([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(960);
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    // x of t = 0.5 s (frame 1, happy with p = 1) mid-plot; the plot spans x 110..940 over 3 s.
    const xAt = (t: number) => Math.round(110 + (t / 3) * 830);
    expect(pixel(xAt(0.75), 64 + 100)).toEqual(hex(labelColours(MODEL.labels).happy!));
    // The segment band (y 274..296): happy at 0.75 s, no_face at 1.75 s.
    expect(pixel(xAt(0.75), 285)).toEqual(hex(labelColours(MODEL.labels).happy!));
    expect(pixel(xAt(1.75), 285)).toEqual(hex(labelColours(MODEL.labels).no_face!));
    // Twice the density doubles the size.
    expect((await sharp(await renderTimelinePng(result, 2)).metadata()).width).toBe(1920);
  });

  it('draws a chart for a video without any frame', async () => {
    const empty = buildVideoResult({ videoId: 'e', frames: [], video: {}, model: MODEL });
    expect((await sharp(await renderTimelinePng(empty)).metadata()).format).toBe('png');
  });

  it('picks 1-2-5 time ticks', () => {
    expect(timeTicks(3)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
    expect(timeTicks(600)).toEqual([0, 100, 200, 300, 400, 500, 600]);
  });
});
