import { describe, expect, it } from 'vitest';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { csvField, csvHeader, toCsv } from '../../src/results/csv.ts';
import type { VideoResult } from '../../src/results/types.ts';
import { face, frames, MODEL } from './fixtures.ts';

/** RFC 4180 reader written for this test (no CSV library): quoted fields, doubled quotes, CRLF. */
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
function expectCsvMatchesJson(csv: string, result: VideoResult) {
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
        for (const name of ['face_index', 'track_id', 'box_x', 'detector_score', 'face_label', ...result.labels.map((l) => `p_${l}`)]) expect(row[col(name)]).toBe('');
        return;
      }
      expect(Number(row[col('face_index')])).toBe(faceIndex);
      expect(row[col('track_id')]).toBe(cell(f.trackId));
      expect([row[col('box_x')], row[col('box_y')], row[col('box_width')], row[col('box_height')]].map(Number)).toEqual([f.box.x, f.box.y, f.box.width, f.box.height]);
      expect(row[col('detector_score')]).toBe(cell(f.detectorScore));
      expect(row[col('face_label')]).toBe(f.label);
      // Written in full, the probabilities read back as exactly the JSON's numbers.
      expect(result.labels.map((l) => Number(row[col(`p_${l}`)]))).toEqual(f.probabilities);
    });
  }
}

describe('CSV export', () => {
  it('has one row per face per frame and one empty-face row per frame without a face, matching the JSON', () => {
    const result = buildVideoResult({
      videoId: 'vid-1',
      frames: frames(['happy', null, [face('happy', { trackId: 1, p: 1 / 3 }), face('sad', { trackId: 2, score: null })], 'FAIL', 'surprise'], 5),
      video: {},
      model: MODEL,
    });
    const csv = toCsv(result);
    expect(csv.split('\r\n')[0]).toBe(
      'video_id,frame_index,timestamp,frame_label,face_count,face_index,track_id,box_x,box_y,box_width,box_height,detector_score,face_label,p_angry,p_disgust,p_fear,p_happy,p_neutral,p_sad,p_surprise,error',
    );
    expectCsvMatchesJson(csv, result);
  });

  it('quotes fields holding commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.1)).toBe('0.1');
    const base = frames(['happy', 'FAIL']);
    const result = buildVideoResult({
      videoId: 'odd, "id"',
      frames: [base[0]!, { ...base[1]!, error: 'ffmpeg said:\r\n"bad, data"' }],
      video: {},
      model: { ...MODEL, labels: ['a,1', 'b"2', 'c', 'd', 'e', 'f', 'g'] },
    });
    const csv = toCsv(result);
    expectCsvMatchesJson(csv, result);
    expect(parseCsv(csv)[0]!.slice(13, 15)).toEqual(['p_a,1', 'p_b"2']);
  });
});
