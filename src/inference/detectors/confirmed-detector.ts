// A second-stage check: a face from the primary detector is kept only when a second detector,
// trained differently, also finds a face there (IoU ≥ minIou). Detectors fail on different
// things: face-api's tiny detector invents faces in ffmpeg's testsrc2 pattern where BlazeFace
// finds none, BlazeFace fires on mandelbrot where the tiny detector does not. Measured on the
// fixture photos and the demo video, BlazeFace (full range) confirms every face the tiny detector
// finds (94 of 94); see BENCHMARKS.md. Both run at once on each frame.

import type { Detection, RgbImage } from '../../core/types.ts';
import { iou } from './geometry.ts';
import type { FaceDetector } from '../types.ts';

export class ConfirmedDetector implements FaceDetector {
  readonly name: string;

  constructor(
    private readonly primary: FaceDetector,
    private readonly confirmer: FaceDetector,
    private readonly minIou = 0.3,
  ) {
    this.name = `${primary.name} (confirmed by ${confirmer.name})`;
  }

  async detect(image: RgbImage): Promise<Detection[]> {
    const [found, confirming] = await Promise.all([this.primary.detect(image), this.confirmer.detect(image)]);
    return found.filter((face) => confirming.some((other) => iou(face.box, other.box) >= this.minIou));
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.confirmer.close()]);
  }
}
