// MediaPipe BlazeFace's outputs, decoded as MediaPipe's face detection graph does
// (SsdAnchorsCalculator → TensorsToDetectionsCalculator → NonMaxSuppressionCalculator WEIGHTED).
//
// The short-range (128×128) and full-range (256×256) models both predict on two grids: 16×16
// cells with 2 anchors each (512) and 8×8 cells with 6 anchors each (384); every anchor sits at
// its cell's centre with a fixed unit size (MediaPipe's fixed_anchor_size), so anchor i of a cell
// (col, row) is ((col + 0.5) / cells, (row + 0.5) / cells). Outputs (the keijiro Barracuda export):
// `Identity:0` [1,512,1] and `Identity_1:0` [1,384,1] logits, `Identity_2:0` [1,512,16] and
// `Identity_3:0` [1,384,16] regressors: box centre offset (x, y) and size (w, h) in input pixels,
// then 6 keypoints (x, y) offsets: right eye, left eye, nose tip, mouth centre, right and left ear
// tragion. Score = sigmoid(logit clipped to ±100). Overlapping boxes are merged by WEIGHTED
// suppression: each cluster around the best remaining box (IoU above the threshold) becomes one
// detection whose box and keypoints are the score-weighted mean, with the best score.

import type { Detection } from '../../../../core/types.ts';
import type { Tensor } from '../../../types.ts';
import type { InputMapping } from '../../geometry.ts';
import { clampBox, iou } from '../../geometry.ts';
import type { DecodeOptions } from '../../decode.ts';

/** The two prediction grids: output names, cells per side, anchors per cell. */
export const BLAZEFACE_GRIDS = [
  { scores: 'Identity:0', regressors: 'Identity_2:0', cells: 16, anchors: 2 },
  { scores: 'Identity_1:0', regressors: 'Identity_3:0', cells: 8, anchors: 6 },
] as const;

export const BLAZEFACE_KEYPOINTS = 6;

interface Candidate {
  readonly score: number;
  /** Corners and keypoints in input pixels. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly keypoints: ReadonlyArray<readonly [number, number]>;
}

function output(outputs: Readonly<Record<string, Tensor>>, name: string, n: number, width: number): Tensor {
  const t = outputs[name];
  if (t === undefined)
    throw new Error(`BlazeFace output "${name}" missing (got ${Object.keys(outputs).join(', ') || 'none'})`);
  if (t.dims[1] !== n || t.dims[2] !== width)
    throw new Error(`BlazeFace output "${name}" has shape [${t.dims.join(',')}], expected [B,${n},${width}]`);
  return t;
}

/** Decodes one image of a batch; boxes and keypoints in the pixels of `image`. */
export function decodeBlazeFace(
  outputs: Readonly<Record<string, Tensor>>,
  batchIndex: number,
  mapping: InputMapping,
  image: { readonly width: number; readonly height: number },
  options: DecodeOptions,
): Detection[] {
  const W = mapping.inputWidth;
  const H = mapping.inputHeight;
  const candidates: Candidate[] = [];
  for (const grid of BLAZEFACE_GRIDS) {
    const n = grid.cells * grid.cells * grid.anchors;
    const scores = output(outputs, grid.scores, n, 1);
    const regressors = output(outputs, grid.regressors, n, 4 + 2 * BLAZEFACE_KEYPOINTS);
    for (let i = 0; i < n; i++) {
      const logit = Math.max(-100, Math.min(100, scores.data[batchIndex * n + i]!));
      const score = 1 / (1 + Math.exp(-logit));
      if (score < options.scoreThreshold) continue;
      const cell = Math.floor(i / grid.anchors);
      const ax = ((cell % grid.cells) + 0.5) / grid.cells;
      const ay = (Math.floor(cell / grid.cells) + 0.5) / grid.cells;
      const r = (batchIndex * n + i) * 16;
      const cx = ax * W + regressors.data[r]!;
      const cy = ay * H + regressors.data[r + 1]!;
      const w = regressors.data[r + 2]!;
      const h = regressors.data[r + 3]!;
      const keypoints: Array<readonly [number, number]> = [];
      for (let k = 0; k < BLAZEFACE_KEYPOINTS; k++)
        keypoints.push([ax * W + regressors.data[r + 4 + 2 * k]!, ay * H + regressors.data[r + 5 + 2 * k]!]);
      candidates.push({ score, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, keypoints });
    }
  }
  const merged = weightedSuppression(candidates, options.nmsIou);
  const detections: Detection[] = [];
  for (const c of merged) {
    const box = clampBox(
      {
        x: c.x1 / mapping.scaleX,
        y: c.y1 / mapping.scaleY,
        width: (c.x2 - c.x1) / mapping.scaleX,
        height: (c.y2 - c.y1) / mapping.scaleY,
      },
      image.width,
      image.height,
    );
    if (Math.min(box.width, box.height) < Math.max(options.minFaceSize, 1e-6)) continue;
    detections.push({
      box,
      score: c.score,
      landmarks: c.keypoints.map(([x, y]) => [x / mapping.scaleX, y / mapping.scaleY] as const),
    });
    if (detections.length >= options.maxFaces) break;
  }
  return detections;
}

/** MediaPipe's WEIGHTED non-maximum suppression, best first. */
export function weightedSuppression(candidates: readonly Candidate[], iouThreshold: number): Candidate[] {
  let remaining = [...candidates].sort((a, b) => b.score - a.score);
  const out: Candidate[] = [];
  const asBox = (c: Candidate) => ({ x: c.x1, y: c.y1, width: c.x2 - c.x1, height: c.y2 - c.y1 });
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const cluster: Candidate[] = [];
    const rest: Candidate[] = [];
    for (const c of remaining) (iou(asBox(best), asBox(c)) > iouThreshold ? cluster : rest).push(c);
    const total = cluster.reduce((s, c) => s + c.score, 0);
    const mean = (pick: (c: Candidate) => number) => cluster.reduce((s, c) => s + pick(c) * c.score, 0) / total;
    out.push({
      score: best.score,
      x1: mean((c) => c.x1),
      y1: mean((c) => c.y1),
      x2: mean((c) => c.x2),
      y2: mean((c) => c.y2),
      keypoints: best.keypoints.map(
        (_, k) => [mean((c) => c.keypoints[k]![0]), mean((c) => c.keypoints[k]![1])] as const,
      ),
    });
    remaining = rest;
  }
  return out;
}
