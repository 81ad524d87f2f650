// An evaluation report as people read it: a text table (scikit-learn's classification_report
// layout), CSV files (per class; the confusion matrix), and one chart — the confusion matrix as
// row-normalised recall with counts, and the reliability diagram — as SVG and PNG.

import sharp from 'sharp';
import type { ClassificationReport } from './metrics.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** The report as text, one line per class, then accuracy, macro and weighted averages, and calibration. */
export function reportText(report: ClassificationReport): string {
  const width = Math.max(12, ...report.labels.map((l) => l.length));
  const row = (name: string, p: string, r: string, f: string, s: string) =>
    `${name.padStart(width)}  ${p.padStart(9)}  ${r.padStart(9)}  ${f.padStart(9)}  ${s.padStart(7)}`;
  const n = (x: number) => x.toFixed(3);
  return [
    row('', 'precision', 'recall', 'f1-score', 'support'),
    '',
    ...report.perClass.map((c) => row(c.label, n(c.precision), n(c.recall), n(c.f1), String(c.support))),
    '',
    row('accuracy', '', '', n(report.accuracy), String(report.total)),
    row('macro avg', n(report.macro.precision), n(report.macro.recall), n(report.macro.f1), String(report.total)),
    row(
      'weighted avg',
      n(report.weighted.precision),
      n(report.weighted.recall),
      n(report.weighted.f1),
      String(report.total),
    ),
    '',
    `expected calibration error (15 bins): ${report.calibration.ece.toFixed(4)}`,
  ].join('\n');
}

const csvCell = (value: string | number) => {
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** label,precision,recall,f1,support per class, then the averages and accuracy. */
export function reportCsv(report: ClassificationReport): string {
  const lines = ['label,precision,recall,f1,support'];
  for (const c of report.perClass) lines.push([c.label, c.precision, c.recall, c.f1, c.support].map(csvCell).join(','));
  lines.push(
    ['macro avg', report.macro.precision, report.macro.recall, report.macro.f1, report.total].map(csvCell).join(','),
  );
  lines.push(
    ['weighted avg', report.weighted.precision, report.weighted.recall, report.weighted.f1, report.total]
      .map(csvCell)
      .join(','),
  );
  lines.push(['accuracy', '', '', report.accuracy, report.total].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

/** true\predicted header, one row of counts per true label. */
export function confusionCsv(report: ClassificationReport): string {
  const lines = [['true\\predicted', ...report.labels].map(csvCell).join(',')];
  report.confusion.forEach((row, t) => lines.push([report.labels[t]!, ...row].map(csvCell).join(',')));
  return `${lines.join('\n')}\n`;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
const text = (
  x: number,
  y: number,
  content: string,
  opts: { size?: number; anchor?: string; fill?: string; weight?: string; rotate?: boolean } = {},
) =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${opts.size ?? 12}" text-anchor="${opts.anchor ?? 'middle'}" fill="${opts.fill ?? '#222'}"${opts.weight ? ` font-weight="${opts.weight}"` : ''}${opts.rotate ? ` transform="rotate(-40 ${x.toFixed(1)} ${y.toFixed(1)})"` : ''}>${escapeXml(content)}</text>`;

/** White → blue by the share of the row (recall per cell). */
function cellColour(share: number): string {
  const t = Math.max(0, Math.min(1, share));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 69)},${mix(255, 148)})`;
}

/** The confusion matrix (each row normalised, counts in the cells) beside the reliability diagram. */
export function reportSvg(report: ClassificationReport, title: string): string {
  const k = report.labels.length;
  const cell = Math.max(34, Math.min(60, Math.floor(420 / Math.max(1, k))));
  const left = 110;
  const top = 70;
  const matrix = k * cell;
  const plotX = left + matrix + 90;
  const plot = 300;
  const width = plotX + plot + 40;
  const height = Math.max(top + matrix + 90, top + plot + 90);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(16, 24, title, { size: 15, anchor: 'start', weight: 'bold' }),
    text(
      16,
      44,
      `accuracy ${pct(report.accuracy)} · macro recall ${pct(report.macro.recall)} · macro F1 ${pct(report.macro.f1)} · ECE ${report.calibration.ece.toFixed(3)} · ${report.total} images`,
      { size: 12, anchor: 'start', fill: '#444' },
    ),
    text(left + matrix / 2, top + matrix + 62, 'predicted', { size: 12, fill: '#444' }),
    `<text x="18" y="${(top + matrix / 2).toFixed(1)}" font-size="12" fill="#444" text-anchor="middle" transform="rotate(-90 18 ${(top + matrix / 2).toFixed(1)})">true</text>`,
  ];
  report.confusion.forEach((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    parts.push(text(left - 8, top + t * cell + cell / 2 + 4, report.labels[t]!, { anchor: 'end' }));
    row.forEach((count, p) => {
      const share = support === 0 ? 0 : count / support;
      const x = left + p * cell;
      const y = top + t * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${cellColour(share)}" stroke="#ddd"/>`,
      );
      parts.push(
        text(x + cell / 2, y + cell / 2 + 4, String(count), { size: 11, fill: share > 0.5 ? '#fff' : '#222' }),
      );
    });
  });
  report.labels.forEach((label, p) =>
    parts.push(text(left + p * cell + cell / 2, top + matrix + 16, label, { size: 11, anchor: 'end', rotate: true })),
  );

  // Reliability diagram: per bin, the share correct against the mean confidence; the diagonal is perfect calibration.
  const px = (v: number) => plotX + v * plot;
  const py = (v: number) => top + plot - v * plot;
  parts.push(`<rect x="${plotX}" y="${top}" width="${plot}" height="${plot}" fill="none" stroke="#888"/>`);
  parts.push(`<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#aaa" stroke-dasharray="4 3"/>`);
  for (const b of report.calibration.bins) {
    if (b.count === 0) continue;
    const x = px(b.lower) + 1;
    const w = (b.upper - b.lower) * plot - 2;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${py(b.accuracy!).toFixed(1)}" width="${w.toFixed(1)}" height="${(b.accuracy! * plot).toFixed(1)}" fill="#4c78a8" fill-opacity="0.75"/>`,
    );
    parts.push(
      `<circle cx="${px(b.confidence!).toFixed(1)}" cy="${py(b.confidence!).toFixed(1)}" r="2.5" fill="#e45756"/>`,
    );
  }
  for (const v of [0, 0.5, 1]) {
    parts.push(text(px(v), top + plot + 16, v.toFixed(1), { size: 10 }));
    parts.push(text(plotX - 6, py(v) + 4, v.toFixed(1), { size: 10, anchor: 'end' }));
  }
  parts.push(
    text(plotX + plot / 2, top + plot + 36, 'confidence (top-1); bars: share correct, dots: mean confidence', {
      size: 11,
      fill: '#444',
    }),
  );
  parts.push(text(plotX + plot / 2, top - 8, 'reliability', { size: 12, weight: 'bold' }));
  parts.push(text(left + matrix / 2, top - 8, 'confusion (rows: true label)', { size: 12, weight: 'bold' }));
  parts.push('</svg>');
  return parts.join('\n');
}

export function reportPng(report: ClassificationReport, title: string): Promise<Buffer> {
  return sharp(Buffer.from(reportSvg(report, title)), { density: 144 })
    .png()
    .toBuffer();
}
