import { expect } from 'vitest';
import { csvHeader } from '../../src/results/csv.ts';
import type { VideoResult } from '../../src/results/types.ts';

// Reading our CSV export back and checking it cell by cell against the JSON result it was written
// from. Used by the results tests and by any end-to-end test that writes both files.

/** RFC 4180 reader (no CSV library): quoted fields, doubled quotes, CRLF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else if (ch === '\n' || ch === '\r') throw new Error(`bare line break at ${i}: RFC 4180 wants CRLF`);
    else field += ch;
    i += 1;
  }
  if (field !== '' || row.length > 0) throw new Error('last record lacks its CRLF');
  return rows;
}

const cell = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** Checks every CSV row against the JSON result it was written from. */
/** CSV rows as records keyed by the header. */
export function csvRecords(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i]!])));
}

export function expectCsvMatchesJson(csv: string, result: VideoResult) {
  const [header, ...rows] = parseCsv(csv);
  expect(header).toEqual(csvHeader(result.labels));
  const col = (name: string) => header!.indexOf(name);
  const expectedRows = result.frames.reduce((n, f) => n + Math.max(1, f.faces.length), 0);
  expect(rows).toHaveLength(expectedRows);
  let r = 0;
  for (const frame of result.frames) {
    const faces = frame.faces.length === 0 ? [null] : frame.faces;
    faces.forEach((f, faceIndex) => {
      const row = rows[r++]!;
      expect(row).toHaveLength(header!.length);
      expect(row[col('video_id')]).toBe(result.videoId);
      expect(Number(row[col('frame_index')])).toBe(frame.index);
      expect(Number(row[col('timestamp')])).toBe(frame.timestamp);
      expect(row[col('frame_label')]).toBe(cell(frame.label));
      expect(Number(row[col('face_count')])).toBe(frame.faces.length);
      expect(row[col('error')]).toBe(cell(frame.error));
      if (f === null) {
        for (const name of [
          'face_index',
          'track_id',
          'person_id',
          'box_x',
          'detector_score',
          'face_label',
          'face_reused',
          ...result.labels.map((l) => `p_${l}`),
        ])
          expect(row[col(name)]).toBe('');
        return;
      }
      expect(Number(row[col('face_index')])).toBe(faceIndex);
      expect(row[col('track_id')]).toBe(cell(f.trackId));
      expect(row[col('person_id')]).toBe(cell(f.personId));
      expect([row[col('box_x')], row[col('box_y')], row[col('box_width')], row[col('box_height')]].map(Number)).toEqual(
        [f.box.x, f.box.y, f.box.width, f.box.height],
      );
      expect(row[col('detector_score')]).toBe(cell(f.detectorScore));
      expect(row[col('face_label')]).toBe(f.label);
      expect(row[col('face_reused')]).toBe(f.reused === true ? 'true' : 'false');
      // Written in full, the probabilities read back as exactly the JSON's numbers.
      expect(result.labels.map((l) => Number(row[col(`p_${l}`)]))).toEqual(f.probabilities);
    });
  }
}
