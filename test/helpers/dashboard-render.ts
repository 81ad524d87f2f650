import sharp from 'sharp';
import type { QueryCheck, SeriesResult } from '../../src/metrics/dashboard-check.ts';

// Renders what a Grafana dashboard's panels would show, from the checker's query results: a
// Markdown table (one row per query) and a PNG of small line charts (one per panel), drawn as SVG
// and rasterised with sharp. A reviewer sees the dashboard's content without a Grafana.

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function legend(series: SeriesResult, legendFormat: string | undefined): string {
  if (legendFormat && legendFormat !== '__auto') {
    const text = legendFormat.replace(
      /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
      (_, name: string) => series.metric[name] ?? '',
    );
    if (text.trim() !== '') return text.trim();
  }
  const labels = Object.entries(series.metric).filter(([k]) => k !== '__name__');
  return labels.length === 0 ? (series.metric.__name__ ?? 'value') : labels.map(([k, v]) => `${k}=${v}`).join(', ');
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}

const escapeMd = (text: string) => text.replace(/\|/g, '\\|');
const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One Markdown table row per query: panel, expression, outcome, and each series' last / max finite value. */
export function renderMarkdownTable(checks: readonly QueryCheck[]): string {
  const rows = [
    '| panel / query | PromQL (as evaluated) | outcome | series: last value (max over the run) |',
    '| --- | --- | --- | --- |',
  ];
  for (const check of checks) {
    const values = check.series
      .slice(0, 8)
      .map((s) => {
        const finite = s.values.map(([, v]) => v).filter(Number.isFinite);
        const last = finite.at(-1);
        const max = finite.length ? Math.max(...finite) : Number.NaN;
        const name = legend(s, check.query.legendFormat);
        return `${name}: ${last === undefined ? 'NaN' : formatValue(last)}${check.query.instant ? '' : ` (${formatValue(max)})`}`;
      })
      .join('<br>');
    const more = check.series.length > 8 ? `<br>… ${check.series.length - 8} more` : '';
    rows.push(
      `| ${escapeMd(check.query.source)} | \`${escapeMd(check.promql)}\` | ${check.outcome} | ${escapeMd(values + more)} |`,
    );
  }
  return rows.join('\n');
}

/** Small multiples: one chart per panel (its queries' series together), as a PNG. */
export async function renderPanelsPng(
  checks: readonly QueryCheck[],
  options: { title: string; start: number; end: number },
): Promise<Buffer> {
  const panels = new Map<string, QueryCheck[]>();
  for (const check of checks) {
    if (check.query.kind !== 'panel') continue;
    const title = /^panel "(.*)" [A-Z]+$/.exec(check.query.source)?.[1] ?? check.query.source;
    panels.set(title, [...(panels.get(title) ?? []), check]);
  }
  const columns = 3;
  const w = 460;
  const h = 230;
  const header = 40;
  const rowsCount = Math.ceil(panels.size / columns);
  const width = columns * w;
  const height = header + rowsCount * h;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="26" font-size="18" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  let i = 0;
  for (const [title, panelChecks] of panels) {
    const x0 = (i % columns) * w;
    const y0 = header + Math.floor(i / columns) * h;
    parts.push(chart(title, panelChecks, x0, y0, w, h, options.start, options.end));
    i++;
  }
  parts.push('</svg>');
  return sharp(Buffer.from(parts.join('\n')))
    .png()
    .toBuffer();
}

function textPanel(title: string, check: QueryCheck, x0: number, y0: number, w: number, h: number): string {
  const out = [
    `<rect x="${x0 + 4}" y="${y0 + 4}" width="${w - 8}" height="${h - 8}" fill="#fafafa" stroke="#dddddd"/>`,
    `<text x="${x0 + 12}" y="${y0 + 18}" font-size="12" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  check.series.slice(0, 14).forEach((s, k) => {
    const labels = Object.entries(s.metric)
      .filter(([key]) => key !== '__name__')
      .map(([key, v]) => `${key}=${v}`)
      .join('  ');
    out.push(
      `<text x="${x0 + 12}" y="${y0 + 38 + k * 13}" font-size="9" font-family="DejaVu Sans Mono, monospace">${escapeXml(labels.slice(0, 90))}</text>`,
    );
  });
  return out.join('\n');
}

function chart(
  title: string,
  checks: QueryCheck[],
  x0: number,
  y0: number,
  w: number,
  h: number,
  start: number,
  end: number,
): string {
  const pad = { left: 56, right: 10, top: 24, bottom: 62 };
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  const table = checks.find((c) => c.query.format === 'table');
  if (table) return textPanel(title, table, x0, y0, w, h);
  const lines: Array<{ name: string; points: Array<[number, number]>; instant: boolean }> = [];
  for (const check of checks) {
    if (check.query.format === 'heatmap' && check.query.instant) {
      // Cumulative `le` buckets → how many observations fell in each bucket, in bucket order.
      const buckets = check.series
        .map((s) => ({
          le: s.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.metric.le),
          value: s.values[0]?.[1] ?? 0,
        }))
        .sort((a, b) => a.le - b.le);
      let below = 0;
      const counts = buckets.map((b) => {
        const count = b.value - below;
        below = b.value;
        return { le: b.le, count };
      });
      // Buckets above the largest observed value are empty: leave them out.
      const lastUsed = counts.findLastIndex((c) => c.count > 1e-9);
      for (const c of counts.slice(0, lastUsed + 1))
        lines.push({ name: `≤ ${c.le}`, points: [[0, c.count]], instant: true });
      continue;
    }
    for (const s of check.series) {
      lines.push({
        name: legend(s, check.query.legendFormat),
        points: s.values.filter(([, v]) => Number.isFinite(v)),
        instant: check.query.instant,
      });
    }
  }
  const all = lines.flatMap((l) => l.points.map(([, v]) => v));
  const failed = checks.filter((c) => c.outcome !== 'ok');
  const yMin = all.length ? Math.min(0, ...all) : 0;
  let yMax = all.length ? Math.max(...all) : 1;
  if (yMax === yMin) yMax = yMin + 1;
  const sx = (t: number) => x0 + pad.left + ((t - start) / Math.max(1, end - start)) * plotW;
  const sy = (v: number) => y0 + pad.top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;
  const out: string[] = [
    `<rect x="${x0 + 4}" y="${y0 + 4}" width="${w - 8}" height="${h - 8}" fill="#fafafa" stroke="#dddddd"/>`,
    `<text x="${x0 + 12}" y="${y0 + 18}" font-size="12" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${x0 + pad.left}" y1="${y0 + pad.top + plotH}" x2="${x0 + pad.left + plotW}" y2="${y0 + pad.top + plotH}" stroke="#999"/>`,
    `<line x1="${x0 + pad.left}" y1="${y0 + pad.top}" x2="${x0 + pad.left}" y2="${y0 + pad.top + plotH}" stroke="#999"/>`,
    `<text x="${x0 + pad.left - 4}" y="${y0 + pad.top + 8}" font-size="9" text-anchor="end">${formatValue(yMax)}</text>`,
    `<text x="${x0 + pad.left - 4}" y="${y0 + pad.top + plotH}" font-size="9" text-anchor="end">${formatValue(yMin)}</text>`,
    `<text x="${x0 + pad.left}" y="${y0 + pad.top + plotH + 11}" font-size="9">0 s</text>`,
    `<text x="${x0 + pad.left + plotW}" y="${y0 + pad.top + plotH + 11}" font-size="9" text-anchor="end">${Math.round(end - start)} s</text>`,
  ];
  lines.slice(0, COLOURS.length).forEach((line, k) => {
    const colour = COLOURS[k % COLOURS.length]!;
    if (line.instant || line.points.length === 1) {
      // Instant queries (tables, distributions): one bar per series at the right edge region.
      const v = line.points[0]?.[1] ?? 0;
      const bw = Math.max(4, plotW / Math.max(1, lines.length) - 4);
      const bx = x0 + pad.left + k * (bw + 4) + 2;
      out.push(
        `<rect x="${bx}" y="${sy(Math.max(v, yMin))}" width="${bw}" height="${Math.max(1, sy(yMin) - sy(Math.max(v, yMin)))}" fill="${colour}" opacity="0.8"/>`,
      );
    } else {
      // Break the line where samples are missing (NaN / gaps larger than two steps).
      let d = '';
      let prev: number | undefined;
      for (const [t, v] of line.points) {
        d += `${prev === undefined || t - prev > 2.5 ? 'M' : 'L'}${sx(t).toFixed(1)},${sy(v).toFixed(1)} `;
        prev = t;
      }
      if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    }
    const ly = y0 + pad.top + plotH + 24 + Math.floor(k / 2) * 11;
    const lx = x0 + pad.left + (k % 2) * (plotW / 2);
    out.push(`<rect x="${lx}" y="${ly - 7}" width="8" height="8" fill="${colour}"/>`);
    out.push(`<text x="${lx + 11}" y="${ly}" font-size="9">${escapeXml(line.name.slice(0, 38))}</text>`);
  });
  if (lines.length > COLOURS.length) {
    out.push(
      `<text x="${x0 + w - 14}" y="${y0 + 18}" font-size="9" text-anchor="end">+${lines.length - COLOURS.length} series</text>`,
    );
  }
  if (failed.length > 0) {
    out.push(
      `<text x="${x0 + pad.left + 8}" y="${y0 + pad.top + 14}" font-size="11" fill="#d62728">${escapeXml(failed.map((c) => c.outcome).join(', '))}</text>`,
    );
  }
  return out.join('\n');
}
