import type { FaceResult, FrameResult, ModelInfo } from '../../src/core/types.ts';

// Hand-made frame results for the results tests: a frame is described by the label that should
// come out on top (or none / failed), so expectations can be read off the test.

export const LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'] as const;

export const MODEL: ModelInfo = {
  name: 'test-vit',
  labels: [...LABELS],
  preprocessing: { size: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  detector: null,
};

/** Probabilities with `top` at `p` and the rest shared equally (sums to 1). */
export function probs(top: string, p = 0.7): number[] {
  const rest = (1 - p) / (LABELS.length - 1);
  return LABELS.map((l) => (l === top ? p : rest));
}

export function face(
  top: string,
  options: { p?: number; trackId?: number; x?: number; score?: number | null } = {},
): FaceResult {
  const probabilities = probs(top, options.p);
  return {
    probabilities,
    label: top,
    labelIndex: LABELS.indexOf(top as (typeof LABELS)[number]),
    box: { x: options.x ?? 10, y: 20, width: 50, height: 60 },
    detectorScore: options.score === undefined ? 0.9 : options.score,
    ...(options.trackId !== undefined ? { trackId: options.trackId } : {}),
  };
}

/** Frames at `fps` from spec: a label (one face), null (no face), 'FAIL' (failed), or an array of faces. */
export function frames(spec: Array<string | null | FaceResult[]>, fps = 2): FrameResult[] {
  return spec.map((s, index) => {
    const timestamp = index / fps;
    if (s === 'FAIL') return { index, timestamp, faces: [], error: 'decode failed' };
    if (s === null) return { index, timestamp, faces: [] };
    return { index, timestamp, faces: Array.isArray(s) ? s : [face(s)] };
  });
}
