// UltraFace's outputs (../shared/README.md): decoded, normalised corner boxes and soft-maxed scores.

import type { Detection } from '../../../../core/types.ts';
import type { Tensor } from '../../../types.ts';
import { finishDetections, requireOutput, type DecodeOptions, type ImageSize } from '../../decode.ts';
import type { InputMapping } from '../../geometry.ts';

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
    throw new Error(
      `UltraFace outputs have unexpected shapes: scores [${scores.dims.join(',')}], boxes [${boxes.dims.join(',')}]`,
    );
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
  return finishDetections(candidates, image, options);
}
