import type { VideoResult } from './types.ts';

// CSV export of a per-video result: one row per face per frame; a frame without a face (or a failed
// frame) is one row with the face columns empty. RFC 4180: CRLF line ends, fields quoted when they
// hold a comma, quote, CR or LF, quotes doubled. Numbers are written in full (String(n)) so the
// CSV carries exactly the JSON's values.

export const CSV_FIXED_COLUMNS = [
  'video_id',
  'frame_index',
  'timestamp',
  'frame_label',
  'face_count',
  'face_index',
  'track_id',
  /** The person the face's track belongs to (tracks joined by identity); empty where identities were not computed. */
  'person_id',
  'box_x',
  'box_y',
  'box_width',
  'box_height',
  'detector_score',
  'face_label',
  /** `true` when the face reused an earlier frame's classification (FER_REUSE_MAX_FRAMES), else `false`. */
  'face_reused',
] as const;

/** Probability column of a label: `p_<label>`. */
export function probabilityColumn(label: string): string {
  return `p_${label}`;
}

export function csvHeader(labels: readonly string[]): string[] {
  return [...CSV_FIXED_COLUMNS, ...labels.map(probabilityColumn), 'error'];
}

export function toCsv(result: VideoResult): string {
  const rows: Array<Array<string | number | null>> = [csvHeader(result.labels)];
  const emptyProbabilities = result.labels.map(() => null);
  for (const frame of result.frames) {
    const frameColumns = [result.videoId, frame.index, frame.timestamp, frame.label, frame.faces.length];
    if (frame.faces.length === 0) {
      // Every fixed column after the frame's is a face column, empty here.
      const emptyFaceColumns = new Array<null>(CSV_FIXED_COLUMNS.length - frameColumns.length).fill(null);
      rows.push([...frameColumns, ...emptyFaceColumns, ...emptyProbabilities, frame.error ?? null]);
      continue;
    }
    frame.faces.forEach((face, faceIndex) => {
      rows.push([
        ...frameColumns,
        faceIndex,
        face.trackId,
        face.personId ?? null,
        face.box.x,
        face.box.y,
        face.box.width,
        face.box.height,
        face.detectorScore,
        face.label,
        face.reused === true ? 'true' : 'false',
        ...face.probabilities,
        null,
      ]);
    });
  }
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const TRACK_CSV_COLUMNS = [
  'video_id',
  'track_id',
  'person_id',
  'first_timestamp',
  'last_timestamp',
  'frames',
  'mean_detector_score',
  'dominant_label',
  'dominant_frame_share',
] as const;

/**
 * Per-track CSV: one row per track (a face followed within a shot; `person_id` joins a person's tracks), with when they
 * were seen, how sure the detector
 * was, their dominant expression and their mean probability per label (`p_<label>`).
 */
export function toTracksCsv(result: VideoResult): string {
  const rows: Array<Array<string | number | null>> = [[...TRACK_CSV_COLUMNS, ...result.labels.map(probabilityColumn)]];
  for (const track of result.tracks) {
    rows.push([
      result.videoId,
      track.trackId,
      track.personId ?? null,
      track.firstTimestamp,
      track.lastTimestamp,
      track.frames,
      track.meanDetectorScore,
      track.dominant?.label ?? null,
      track.dominant?.frameShare ?? null,
      ...result.labels.map((label) => track.distribution.meanProbability[label] ?? null),
    ]);
  }
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export const PERSON_CSV_COLUMNS = [
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
] as const;

/**
 * Per-person CSV: one row per person (their tracks joined across cuts by identity): when and how
 * long they were on screen, their dominant expression and mean probability per label (`p_<label>`).
 * `track_ids` lists their tracks separated by spaces. Header only where identities were not computed.
 */
export function toPersonsCsv(result: VideoResult): string {
  const rows: Array<Array<string | number | null>> = [[...PERSON_CSV_COLUMNS, ...result.labels.map(probabilityColumn)]];
  for (const person of result.persons ?? []) {
    rows.push([
      result.videoId,
      person.personId,
      person.trackIds.join(' '),
      person.firstTimestamp,
      person.lastTimestamp,
      person.frames,
      person.screenTimeSeconds,
      person.meanDetectorScore,
      person.dominant?.label ?? null,
      person.dominant?.frameShare ?? null,
      ...result.labels.map((label) => person.distribution.meanProbability[label] ?? null),
    ]);
  }
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
