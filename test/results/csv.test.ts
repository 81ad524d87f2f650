import { describe, expect, it } from 'vitest';
import { expectCsvMatchesJson, parseCsv } from '../helpers/csv.ts';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { csvField, toCsv } from '../../src/results/csv.ts';
import { face, frames, MODEL } from './fixtures.ts';

describe('CSV export', () => {
  it('has one row per face per frame and one empty-face row per frame without a face, matching the JSON', () => {
    const result = buildVideoResult({
      videoId: 'vid-1',
      frames: frames(
        [
          'happy',
          null,
          [face('happy', { trackId: 1, p: 1 / 3 }), { ...face('sad', { trackId: 2, score: null }), reused: true }],
          'FAIL',
          'surprise',
        ],
        5,
      ),
      video: {},
      model: MODEL,
    });
    const csv = toCsv(result);
    expect(csv.split('\r\n')[0]).toBe(
      'video_id,frame_index,timestamp,frame_label,face_count,face_index,track_id,person_id,box_x,box_y,box_width,box_height,detector_score,face_label,face_reused,p_angry,p_disgust,p_fear,p_happy,p_neutral,p_sad,p_surprise,error',
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
    expect(parseCsv(csv)[0]!.slice(15, 17)).toEqual(['p_a,1', 'p_b"2']);
  });
});
