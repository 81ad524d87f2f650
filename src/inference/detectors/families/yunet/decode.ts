// YuNet's outputs (../shared/README.md): per-stride grids of class and objectness scores, box
// offsets and five landmarks.

import type { Detection } from '../../../../core/types.ts';
import type { Tensor } from '../../../types.ts';
import { finishDetections, requireOutput, type DecodeOptions, type ImageSize } from '../../decode.ts';
import type { InputMapping } from '../../geometry.ts';

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
      throw new Error(
        `YuNet outputs at stride ${s} have ${cls.dims[1]} cells, expected ${n} for a ${mapping.inputWidth}x${mapping.inputHeight} input`,
      );
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
        landmarks.push([
          ((col + kps.data[k + 2 * p]!) * s) / mapping.scaleX,
          ((row + kps.data[k + 2 * p + 1]!) * s) / mapping.scaleY,
        ]);
      }
      candidates.push({
        box: {
          x: (cx - w / 2) / mapping.scaleX,
          y: (cy - h / 2) / mapping.scaleY,
          width: w / mapping.scaleX,
          height: h / mapping.scaleY,
        },
        score,
        landmarks,
      });
    }
  }
  return finishDetections(candidates, image, options);
}
