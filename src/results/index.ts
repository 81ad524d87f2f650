// Per-video results: aggregation (pure), CSV and chart exports.
export { buildVideoResult, resmoothVideoResult } from './aggregate.ts';
export { argmax } from './timeline.ts';
export {
  toCsv,
  toTracksCsv,
  toPersonsCsv,
  csvHeader,
  probabilityColumn,
  CSV_FIXED_COLUMNS,
  TRACK_CSV_COLUMNS,
  PERSON_CSV_COLUMNS,
} from './csv.ts';
export { renderTimelineSvg, renderTimelinePng, labelColours, CHART_PALETTE } from './chart.ts';
export {
  RESULT_FORMATS,
  RESULT_FORMAT_NAMES,
  resultFormat,
  type ResultFormat,
  type ResultFormatName,
  type RenderOptions,
} from './formats.ts';
export * from './types.ts';
export { annotationSubtitles } from './annotation.ts';
export { assignTracks, faceTracker, type TrackerOptions, type TrackingContext } from './tracks.ts';
export { assignPersons, type PersonOptions } from './persons.ts';
export { boxesInVideoPixels, scaleFaceBoxes, type Size } from './face-boxes.ts';
export { detectCuts, cutScores, type SceneCut } from './scenes.ts';
