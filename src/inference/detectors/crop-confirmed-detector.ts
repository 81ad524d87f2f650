// A second look at doubtful faces: a face the primary detector scores below `trustAbove` is kept
// only when a second detector, run on a square crop around it (`context` × the box's longer side,
// so the face fills about half of it), also finds a face there (IoU ≥ minIou in frame pixels).
// Faces scored at or above `trustAbove` are kept as they are. Two-stage cascades (MTCNN's R-Net)
// work this way: the check sees the candidate at the scale it was trained on, so small faces are
// confirmed as well as large ones, and it runs only where the primary hesitates. Measured on
// cluttered scenes (paintings, animals, headlights, galaxies): the detectors' false faces there
// score in the doubtful band and are not confirmed; see BENCHMARKS.md (bench:detect).

import type { Box, Detection, RgbImage } from '../../core/types.ts';
import { cropRgb } from './crop.ts';
import { iou } from './geometry.ts';
import type { FaceDetector } from '../types.ts';

export interface CropCheckSettings {
  /** Primary scores at or above this need no check. */
  readonly trustAbove: number;
  /** Crop side as a multiple of the face box's longer side. */
  readonly context: number;
  /** Least overlap between the primary's box and the confirmer's (frame pixels). */
  readonly minIou: number;
}

export const DEFAULT_CROP_CHECK: Omit<CropCheckSettings, 'trustAbove'> = { context: 2, minIou: 0.3 };

/** The square of side `context` × the box's longer side around its centre, moved inside the frame (integer pixels). */
export function checkRegion(box: Box, frameWidth: number, frameHeight: number, context: number): Box {
  const side = Math.max(1, Math.min(frameWidth, frameHeight, Math.round(Math.max(box.width, box.height) * context)));
  const x = Math.min(Math.max(0, Math.round(box.x + box.width / 2 - side / 2)), frameWidth - side);
  const y = Math.min(Math.max(0, Math.round(box.y + box.height / 2 - side / 2)), frameHeight - side);
  return { x, y, width: side, height: side };
}

export class CropConfirmedDetector implements FaceDetector {
  readonly name: string;

  constructor(
    private readonly primary: FaceDetector,
    private readonly confirmer: FaceDetector,
    private readonly settings: CropCheckSettings,
  ) {
    this.name = `${primary.name} (below ${settings.trustAbove} confirmed by ${confirmer.name})`;
  }

  async detect(image: RgbImage): Promise<Detection[]> {
    const found = await this.primary.detect(image);
    const keep = await Promise.all(
      found.map((face) => (face.score >= this.settings.trustAbove ? true : this.confirmed(image, face.box))),
    );
    return found.filter((_, i) => keep[i]);
  }

  private async confirmed(image: RgbImage, box: Box): Promise<boolean> {
    const region = checkRegion(box, image.width, image.height, this.settings.context);
    const others = await this.confirmer.detect(cropRgb(image, region));
    return others.some(
      (o) =>
        iou(box, { x: o.box.x + region.x, y: o.box.y + region.y, width: o.box.width, height: o.box.height }) >=
        this.settings.minIou,
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.confirmer.close()]);
  }
}
