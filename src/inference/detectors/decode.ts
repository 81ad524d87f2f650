// Turning the detectors' raw outputs into boxes in the pixels of the image that was detected.
// Formats as documented in ../shared/README.md (UltraFace: decoded, normalised corner boxes and
// soft-maxed scores; YuNet: per-stride grids of class/objectness scores, box offsets, landmarks).

import type { Detection } from '../../core/types.ts';
import type { Tensor } from '../types.ts';
import type { InputMapping } from './geometry.ts';
import { clampBox, nms } from './geometry.ts';

export interface DecodeOptions {
  readonly scoreThreshold: number;
  readonly nmsIou: number;
  /** Faces whose shorter side is below this many image pixels are dropped. */
  readonly minFaceSize: number;
  readonly maxFaces: number;
}

/** Image size the mapping was built for, so boxes can be clamped to it. */
interface ImageSize {
  readonly width: number;
  readonly height: number;
}

function requireOutput(outputs: Readonly<Record<string, Tensor>>, name: string): Tensor {
  const t = outputs[name];
  if (t === undefined) throw new Error(`detector output "${name}" missing (got ${Object.keys(outputs).join(', ') || 'none'})`);
  return t;
}

/** Score threshold first (cheap, removes almost all anchors), NMS, then size and count limits. */
function finish(candidates: Detection[], image: ImageSize, options: DecodeOptions): Detection[] {
  const clamped = candidates
    .map((d) => ({ ...d, box: clampBox(d.box, image.width, image.height) }))
    .filter((d) => Math.min(d.box.width, d.box.height) >= Math.max(options.minFaceSize, 1e-6));
  return nms(clamped, options.nmsIou, options.maxFaces);
}

/**
 * UltraFace: `scores` [B,N,2] (column 1 = face), `boxes` [B,N,4] = x1,y1,x2,y2 in 0..1 of the
 * network input; `batchIndex` selects the image of a batch.
 */
export function decodeUltraFace(
  outputs: Readonly<Record<string, Tensor>>,
  batchIndex: number,
  mapping: InputMapping,
  image: ImageSize,
  options: DecodeOptions,
): Detection[] {
  const scores = requireOutput(outputs, 'scores');
  const boxes = requireOutput(outputs, 'boxes');
  const n = scores.dims[1] ?? 0;
  if (scores.dims[2] !== 2 || boxes.dims[1] !== n || boxes.dims[2] !== 4) {
    throw new Error(`UltraFace outputs have unexpected shapes: scores [${scores.dims.join(',')}], boxes [${boxes.dims.join(',')}]`);
  }
  const candidates: Detection[] = [];
  const sOff = batchIndex * n * 2;
  const bOff = batchIndex * n * 4;
  // Normalised input coordinates → input pixels → image pixels.
  const kx = mapping.inputWidth / mapping.scaleX;
  const ky = mapping.inputHeight / mapping.scaleY;
  for (let i = 0; i < n; i++) {
    const score = scores.data[sOff + i * 2 + 1]!;
    if (score < options.scoreThreshold) continue;
    const x1 = boxes.data[bOff + i * 4]! * kx;
    const y1 = boxes.data[bOff + i * 4 + 1]! * ky;
    const x2 = boxes.data[bOff + i * 4 + 2]! * kx;
    const y2 = boxes.data[bOff + i * 4 + 3]! * ky;
    candidates.push({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score });
  }
  return finish(candidates, image, options);
}

export const YUNET_STRIDES = [8, 16, 32] as const;

/**
 * YuNet: for each stride s, `cls_s`/`obj_s` [B,n,1], `bbox_s` [B,n,4], `kps_s` [B,n,10] over the
 * (H/s)×(W/s) grid, row-major. score = sqrt(cls·obj); centre = (col + dx, row + dy)·s;
 * size = exp(dw, dh)·s; landmarks = (col + kx, row + ky)·s.
 */
export function decodeYuNet(
  outputs: Readonly<Record<string, Tensor>>,
  batchIndex: number,
  mapping: InputMapping,
  image: ImageSize,
  options: DecodeOptions,
): Detection[] {
  const candidates: Detection[] = [];
  for (const s of YUNET_STRIDES) {
    const cls = requireOutput(outputs, `cls_${s}`);
    const obj = requireOutput(outputs, `obj_${s}`);
    const bbox = requireOutput(outputs, `bbox_${s}`);
    const kps = requireOutput(outputs, `kps_${s}`);
    const cols = Math.floor(mapping.inputWidth / s);
    const rows = Math.floor(mapping.inputHeight / s);
    const n = rows * cols;
    if (cls.dims[1] !== n || obj.dims[1] !== n || bbox.dims[1] !== n || kps.dims[1] !== n) {
      throw new Error(`YuNet outputs at stride ${s} have ${cls.dims[1]} cells, expected ${n} for a ${mapping.inputWidth}x${mapping.inputHeight} input`);
    }
    const off = batchIndex * n;
    for (let i = 0; i < n; i++) {
      const c = Math.min(Math.max(cls.data[off + i]!, 0), 1);
      const o = Math.min(Math.max(obj.data[off + i]!, 0), 1);
      const score = Math.sqrt(c * o);
      if (score < options.scoreThreshold) continue;
      const row = Math.floor(i / cols);
      const col = i % cols;
      const b = (off + i) * 4;
      const cx = (col + bbox.data[b]!) * s;
      const cy = (row + bbox.data[b + 1]!) * s;
      const w = Math.exp(bbox.data[b + 2]!) * s;
      const h = Math.exp(bbox.data[b + 3]!) * s;
      const k = (off + i) * 10;
      const landmarks: Array<readonly [number, number]> = [];
      for (let p = 0; p < 5; p++) {
        landmarks.push([((col + kps.data[k + 2 * p]!) * s) / mapping.scaleX, ((row + kps.data[k + 2 * p + 1]!) * s) / mapping.scaleY]);
      }
      candidates.push({
        box: { x: (cx - w / 2) / mapping.scaleX, y: (cy - h / 2) / mapping.scaleY, width: w / mapping.scaleX, height: h / mapping.scaleY },
        score,
        landmarks,
      });
    }
  }
  return finish(candidates, image, options);
}
