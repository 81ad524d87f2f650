import { describe, expect, it } from 'vitest';
import { decodeUltraFace } from '../../../src/inference/detectors/families/ultraface/decode.ts';
import { decodeYuNet } from '../../../src/inference/detectors/families/yunet/decode.ts';
import {
  clampBox,
  dynamicInputSize,
  iou,
  letterboxMapping,
  nms,
  stretchMapping,
} from '../../../src/inference/detectors/geometry.ts';

const opts = { scoreThreshold: 0.5, nmsIou: 0.3, minFaceSize: 0, maxFaces: 10 };

describe('box geometry', () => {
  it('IoU of identical, disjoint, half-overlapping and empty boxes', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x: 20, y: 0, width: 10, height: 10 })).toBe(0);
    expect(iou(a, { x: 5, y: 0, width: 10, height: 10 })).toBeCloseTo(50 / 150);
    expect(iou(a, { x: 0, y: 0, width: 0, height: 0 })).toBe(0);
  });

  it('NMS keeps the best of overlapping boxes, keeps separate ones, honours the limit', () => {
    const d = (x: number, score: number) => ({ box: { x, y: 0, width: 10, height: 10 }, score });
    const kept = nms([d(0, 0.8), d(1, 0.9), d(50, 0.7), d(100, 0.6)], 0.3);
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7, 0.6]);
    expect(nms([d(0, 0.8), d(50, 0.7), d(100, 0.6)], 0.3, 2).map((k) => k.score)).toEqual([0.8, 0.7]);
  });

  it('letterbox keeps the aspect ratio and pads bottom/right; stretch fills', () => {
    const lb = letterboxMapping(1280, 720, 640, 640);
    expect(lb).toMatchObject({ contentWidth: 640, contentHeight: 360 });
    expect(lb.scaleX).toBeCloseTo(0.5);
    expect(lb.scaleY).toBeCloseTo(0.5);
    const st = stretchMapping(1280, 720, 320, 240);
    expect(st).toMatchObject({ contentWidth: 320, contentHeight: 240, scaleX: 0.25 });
    expect(st.scaleY).toBeCloseTo(1 / 3);
    expect(dynamicInputSize(360, 288, 320, 32)).toEqual({ width: 320, height: 256 });
  });

  it('clamps boxes to the frame', () => {
    expect(clampBox({ x: -5, y: 90, width: 20, height: 20 }, 100, 100)).toEqual({ x: 0, y: 90, width: 15, height: 10 });
  });
});

describe('UltraFace decoding', () => {
  it('maps normalised corners to image pixels, thresholds on the face column, suppresses duplicates', () => {
    // Three anchors: a face, its near-duplicate, a background anchor.
    const scores = { data: new Float32Array([0.1, 0.9, 0.2, 0.8, 0.7, 0.3]), dims: [1, 3, 2] };
    const boxes = { data: new Float32Array([0.25, 0.5, 0.5, 1.0, 0.26, 0.5, 0.5, 1.0, 0, 0, 1, 1]), dims: [1, 3, 4] };
    const image = { width: 800, height: 600 };
    const found = decodeUltraFace({ scores, boxes }, 0, stretchMapping(800, 600, 320, 240), image, opts);
    expect(found).toHaveLength(1);
    expect(found[0]!.score).toBeCloseTo(0.9);
    expect(found[0]!.box.x).toBeCloseTo(200);
    expect(found[0]!.box.y).toBeCloseTo(300);
    expect(found[0]!.box.width).toBeCloseTo(200);
    expect(found[0]!.box.height).toBeCloseTo(300);
  });

  it('names a missing output', () => {
    expect(() => decodeUltraFace({}, 0, stretchMapping(8, 8, 8, 8), { width: 8, height: 8 }, opts)).toThrow(
      /output "scores" missing/,
    );
  });
});

describe('YuNet decoding', () => {
  /** Zeroed outputs for a W×H input and `batch` images, with one face cell set at stride 16. */
  function outputs(w: number, h: number, batch: number, cell: { b: number; row: number; col: number }) {
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const s of [8, 16, 32]) {
      const n = (w / s) * (h / s);
      out[`cls_${s}`] = { data: new Float32Array(batch * n), dims: [batch, n, 1] };
      out[`obj_${s}`] = { data: new Float32Array(batch * n), dims: [batch, n, 1] };
      out[`bbox_${s}`] = { data: new Float32Array(batch * n * 4), dims: [batch, n, 4] };
      out[`kps_${s}`] = { data: new Float32Array(batch * n * 10), dims: [batch, n, 10] };
    }
    const n16 = (w / 16) * (h / 16);
    const i = cell.b * n16 + cell.row * (w / 16) + cell.col;
    out.cls_16!.data[i] = 0.81;
    out.obj_16!.data[i] = 1.2; // clamped to 1 → score sqrt(0.81) = 0.9
    out.bbox_16!.data.set([0.5, 0.5, Math.log(4), Math.log(5)], i * 4);
    out.kps_16!.data.set([0.25, 0.25, 0.75, 0.25, 0.5, 0.5, 0.25, 0.75, 0.75, 0.75], i * 10);
    return out;
  }

  it('decodes centre, size, score and landmarks of a grid cell into image pixels (letterboxed input)', () => {
    const image = { width: 1280, height: 640 };
    const mapping = letterboxMapping(1280, 640, 320, 320); // scale 0.25, content 320x160
    const found = decodeYuNet(outputs(320, 320, 2, { b: 1, row: 3, col: 5 }), 1, mapping, image, opts);
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.score).toBeCloseTo(0.9);
    // centre (5.5·16, 3.5·16) = (88, 56) input px, size 64×80 → /0.25 in image px.
    expect(f.box.x).toBeCloseTo((88 - 32) * 4);
    expect(f.box.y).toBeCloseTo((56 - 40) * 4);
    expect(f.box.width).toBeCloseTo(256);
    expect(f.box.height).toBeCloseTo(320);
    expect(f.landmarks![0]![0]).toBeCloseTo(5.25 * 16 * 4);
    expect(f.landmarks![2]![1]).toBeCloseTo(3.5 * 16 * 4);
    // The other image of the batch has nothing.
    expect(decodeYuNet(outputs(320, 320, 2, { b: 1, row: 3, col: 5 }), 0, mapping, image, opts)).toHaveLength(0);
  });

  it('rejects outputs that do not match the input size', () => {
    expect(() =>
      decodeYuNet(
        outputs(320, 320, 1, { b: 0, row: 0, col: 0 }),
        0,
        letterboxMapping(640, 640, 640, 640),
        { width: 640, height: 640 },
        opts,
      ),
    ).toThrow(/expected 6400 for a 640x640 input/);
  });
});
