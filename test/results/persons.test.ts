import { describe, expect, it } from 'vitest';
import { IDENTITY_SCALE, identityDistance, quantizeIdentity } from '../../src/core/face-identity.ts';
import type { FaceResult, FrameResult } from '../../src/core/types.ts';
import { buildVideoResult, toPersonsCsv, toTracksCsv, toCsv } from '../../src/results/index.ts';
import { assignPersons } from '../../src/results/persons.ts';
import { face, LABELS, MODEL } from './fixtures.ts';

// Descriptors 0.3 apart along their own axis: A and A2 are one person (0.15 apart), B another.
const unit = (axis: number, length = 0.3, base = 0): number[] =>
  quantizeIdentity(Array.from({ length: 128 }, (_, i) => (i === axis ? length : i === 127 ? base : 0)));
const A = unit(0);
const A2 = quantizeIdentity(Array.from({ length: 128 }, (_, i) => (i === 0 ? 0.3 : i === 1 ? 0.15 : 0)));
const B = unit(5, 0.5);
const C = unit(9, 0.5);

const withIdentity = (top: string, trackId: number, identity?: readonly number[], x = 10): FaceResult => ({
  ...face(top, { trackId, x }),
  ...(identity ? { identity } : {}),
});
const at = (index: number, ...faces: FaceResult[]): FrameResult => ({ index, timestamp: index / 2, faces });
const personIds = (frames: FrameResult[]) => frames.map((f) => f.faces.map((x) => x.personId));

describe('identity descriptors', () => {
  it("are stored as integers ×1000 and compared in the network's own units", () => {
    expect(quantizeIdentity([0.12345, -0.0004])).toEqual([123, -0]);
    expect(identityDistance(A, A2)).toBeCloseTo(0.15, 6);
    expect(identityDistance(A, B)).toBeCloseTo(Math.hypot(0.3, 0.5), 6);
    expect(IDENTITY_SCALE).toBe(1000);
  });
});

describe('persons: tracks of one person joined', () => {
  it('joins the tracks of one person across cuts (shot / reverse-shot), ids in order of first appearance', () => {
    const frames = [
      at(0, withIdentity('happy', 1, A)),
      at(1, withIdentity('sad', 2, B)),
      at(2, withIdentity('happy', 3, A2)),
      at(3, withIdentity('sad', 4, B)),
    ];
    expect(personIds(assignPersons(frames, { maxDistance: 0.55 }))).toEqual([[1], [2], [1], [2]]);
  });

  it('does not join tracks farther apart than maxDistance', () => {
    const frames = [at(0, withIdentity('happy', 1, A)), at(1, withIdentity('happy', 2, A2))];
    expect(personIds(assignPersons(frames, { maxDistance: 0.1 }))).toEqual([[1], [2]]);
  });

  it('never makes two faces of one frame one person, however alike', () => {
    const frames = [
      at(0, withIdentity('happy', 1, A), withIdentity('happy', 2, A2, 300)),
      at(1, withIdentity('happy', 3, A)),
    ];
    const out = personIds(assignPersons(frames, { maxDistance: 0.55 }));
    expect(out[0]![0]).not.toBe(out[0]![1]);
    // Track 3 joins the closer of the two (track 1: identical descriptor).
    expect(out[1]).toEqual([out[0]![0]]);
  });

  it('uses the mean descriptor of a track, so one odd face does not split a person', () => {
    // Track 2's faces: two like A, one far off; its mean stays within reach of A.
    const odd = unit(7, 0.5);
    const frames = [
      at(0, withIdentity('happy', 1, A)),
      at(1, withIdentity('happy', 2, A)),
      at(2, withIdentity('happy', 2, A)),
      at(3, withIdentity('happy', 2, odd)),
    ];
    expect(personIds(assignPersons(frames, { maxDistance: 0.3 }))).toEqual([[1], [1], [1], [1]]);
  });

  it('does not chain: a group joins another only while their means stay within maxDistance', () => {
    // A–M and M–Z are each 0.25 apart, A–Z 0.5: the first join (A with M) moves the group's mean, and Z stays apart.
    const M = quantizeIdentity(Array.from({ length: 128 }, (_, i) => (i === 0 ? 0.25 : 0)));
    const Z = quantizeIdentity(Array.from({ length: 128 }, (_, i) => (i === 0 ? 0.5 : 0)));
    const frames = [
      at(0, withIdentity('happy', 1, unit(0, 0))),
      at(1, withIdentity('happy', 2, M)),
      at(2, withIdentity('happy', 3, Z)),
    ];
    const out = personIds(assignPersons(frames, { maxDistance: 0.26 }));
    expect(new Set(out.flat()).size).toBe(2);
  });

  it('assigns nothing where no face carries a descriptor; a track without one is a person of its own', () => {
    const none = [at(0, withIdentity('happy', 1)), at(1, withIdentity('happy', 2))];
    expect(personIds(assignPersons(none, { maxDistance: 0.55 }))).toEqual([[undefined], [undefined]]);
    const mixed = [
      at(0, withIdentity('happy', 1, A)),
      at(1, withIdentity('happy', 2)),
      at(2, withIdentity('happy', 3, A)),
    ];
    expect(personIds(assignPersons(mixed, { maxDistance: 0.55 }))).toEqual([[1], [2], [1]]);
  });
});

describe('persons in the result', () => {
  const frames = [
    at(0, withIdentity('happy', 1, A)),
    at(1, withIdentity('happy', 1, A)),
    at(2, withIdentity('sad', 2, B)),
    at(3, withIdentity('happy', 3, A2)),
    at(4, withIdentity('angry', 4, C)),
  ];
  const result = buildVideoResult({
    videoId: 'v',
    frames,
    video: { name: 'interview.mp4' },
    model: MODEL,
    aggregation: { frameInterval: 0.5 },
    assignTracks: (f) => assignPersons(f, { maxDistance: 0.55 }),
  });

  it('one summary per person: tracks, screen time, dominant expression; counts.persons; personId on tracks and faces; descriptors not kept', () => {
    expect(result.counts.persons).toBe(3);
    expect(
      result.persons.map((p) => [
        p.personId,
        p.trackIds,
        p.frames,
        p.screenTimeSeconds,
        p.firstTimestamp,
        p.lastTimestamp,
        p.dominant?.label,
      ]),
    ).toEqual([
      [1, [1, 3], 3, 1.5, 0, 1.5, 'happy'],
      [2, [2], 1, 0.5, 1, 1, 'sad'],
      [3, [4], 1, 0.5, 2, 2, 'angry'],
    ]);
    expect(result.tracks.map((t) => [t.trackId, t.personId])).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
      [4, 3],
    ]);
    expect(result.frames.map((f) => f.faces[0]!.personId)).toEqual([1, 1, 2, 1, 3]);
    expect(JSON.stringify(result)).not.toContain('identity"');
  });

  it('CSVs: person_id per face and per track, and one row per person with its tracks and screen time', () => {
    const faceRows = toCsv(result).trim().split('\r\n');
    const header = faceRows[0]!.split(',');
    expect(faceRows.slice(1).map((r) => r.split(',')[header.indexOf('person_id')])).toEqual(['1', '1', '2', '1', '3']);
    const trackRows = toTracksCsv(result).trim().split('\r\n');
    expect(trackRows[0]!.split(',').slice(0, 3)).toEqual(['video_id', 'track_id', 'person_id']);
    expect(trackRows.slice(1).map((r) => r.split(',')[2])).toEqual(['1', '2', '1', '3']);
    const personRows = toPersonsCsv(result)
      .trim()
      .split('\r\n')
      .map((r) => r.split(','));
    expect(personRows[0]).toEqual([
      'video_id',
      'person_id',
      'track_ids',
      'first_timestamp',
      'last_timestamp',
      'frames',
      'screen_time_seconds',
      'mean_detector_score',
      'dominant_label',
      'dominant_frame_share',
      ...LABELS.map((l) => `p_${l}`),
    ]);
    expect(personRows[1]!.slice(0, 9)).toEqual(['v', '1', '1 3', '0', '1.5', '3', '1.5', '0.9', 'happy']);
    expect(personRows).toHaveLength(4);
  });

  it('without identities: persons empty, personId null, the persons CSV a header only', () => {
    const plain = buildVideoResult({
      videoId: 'w',
      frames: [at(0, withIdentity('happy', 1))],
      video: {},
      model: MODEL,
    });
    expect(plain.persons).toEqual([]);
    expect(plain.counts.persons).toBe(0);
    expect(plain.tracks[0]!.personId).toBeNull();
    expect(plain.frames[0]!.faces[0]!.personId).toBeNull();
    expect(toPersonsCsv(plain).trim().split('\r\n')).toHaveLength(1);
  });
});
